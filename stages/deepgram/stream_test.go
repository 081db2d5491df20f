package deepgram_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/deepgram"
)

const resultsHello = `{"type":"Results","channel_index":[0,1],"start":0.5,"duration":1.2,"is_final":true,` +
	`"speech_final":true,"channel":{"alternatives":[{"transcript":"Hello.","confidence":0.99,` +
	`"words":[{"word":"hello","start":0.6,"end":1.1,"confidence":0.99,"punctuated_word":"Hello.","speaker":1}]}]}}`

// recv calls Recv with a bound so that a broken test fails instead of
// hanging (the bound closes the stream, which is fine in a failing test).
func recv(t testing.TB, s stages.Stream) (stages.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	return s.Recv(ctx)
}

func TestSendAudioAndControls(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	s, fc := f.dial(t, f.provider(t, deepgram.Config{}))
	ctx := context.Background()
	td.CmpNoError(t, s.SendAudio(ctx, nil), "empty audio is a no-op")
	td.CmpNoError(t, s.SendAudio(ctx, []byte{}), "empty audio is a no-op")
	td.CmpNoError(t, s.SendAudio(ctx, []byte{0x10, 0x00, 0xf0, 0xff}))
	td.CmpNoError(t, s.SendControl(ctx, stages.ControlKeepAlive))
	td.CmpNoError(t, s.SendControl(ctx, stages.ControlFinalize))
	td.CmpNoError(t, s.SendControl(ctx, stages.ControlCloseStream))
	td.Cmp(t, s.SendControl(ctx, stages.Control(42)), td.ErrorIs(deepgram.ErrUnknownControl))
	td.Cmp(t, []frame{fc.next(t), fc.next(t), fc.next(t), fc.next(t)}, []frame{
		{websocket.MessageBinary, "\x10\x00\xf0\xff"}, // the empty frames never left
		{websocket.MessageText, `{"type":"KeepAlive"}`},
		{websocket.MessageText, `{"type":"Finalize"}`},
		{websocket.MessageText, `{"type":"CloseStream"}`},
	})
}

func TestRecvResultsThenEOF(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	s, fc := f.dial(t, f.provider(t, deepgram.Config{}))
	fc.send(t, `{"type":"SpeechStarted","channel":[0,1],"timestamp":0.4}`)
	fc.sendBinary(t, []byte{1, 2, 3})
	fc.send(t, resultsHello)
	res, err := recv(t, s)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res, stages.Result{
		Words:    []stages.Word{{Word: "hello", Punctuated: "Hello.", StartSec: 0.6, EndSec: 1.1, Speaker: 1, Confidence: 0.99}},
		StartSec: 0.5, DurationSec: 1.2, IsFinal: true, SpeechFinal: true,
	})

	td.CmpNoError(t, s.SendControl(context.Background(), stages.ControlCloseStream))
	td.Cmp(t, fc.next(t).data, `{"type":"CloseStream"}`)
	fc.send(t, `{"type":"Results","start":1.7,"duration":0.3,"is_final":true,"from_finalize":true,"channel":{"alternatives":[{"words":[]}]}}`)
	fc.send(t, `{"type":"UtteranceEnd","channel":[0,1],"last_word_end":1.1}`)
	fc.send(t, `{"type":"Metadata","request_id":"r","sha256":"incomplete","duration":2.0,"channels":1}`)
	fc.close(t, websocket.StatusNormalClosure, "")
	res, err = recv(t, s)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res, stages.Result{StartSec: 1.7, DurationSec: 0.3, IsFinal: true, FromFinalize: true})
	_, err = recv(t, s)
	td.Cmp(t, err, io.EOF)
	_, err = recv(t, s)
	td.Cmp(t, err, io.EOF, "the end is sticky")
}

func TestRecvCloseCodes(t *testing.T) {
	t.Parallel()
	const net0001 = "Deepgram did not receive audio data or a text message within the timeout window. See https://dpgr.am/net0001"
	for _, tc := range []struct {
		name   string
		code   websocket.StatusCode
		reason string
		want   *stages.UpstreamError
		class  stages.Class
	}{
		{"1011 NET-0001 link", websocket.StatusInternalError, net0001,
			&stages.UpstreamError{CloseCode: 1011, Code: "NET-0001", Reason: net0001}, stages.ClassRetryable},
		{"1011 NET-0000", websocket.StatusInternalError, "NET-0000: no audio received",
			&stages.UpstreamError{CloseCode: 1011, Code: "NET-0000", Reason: "NET-0000: no audio received"}, stages.ClassRetryable},
		{"1008 DATA-0000", websocket.StatusPolicyViolation, "DATA-0000: audio cannot be decoded",
			&stages.UpstreamError{CloseCode: 1008, Code: "DATA-0000", Reason: "DATA-0000: audio cannot be decoded"}, stages.ClassPermanent},
		{"1008 bare", websocket.StatusPolicyViolation, "",
			&stages.UpstreamError{CloseCode: 1008, Reason: "closed by upstream"}, stages.ClassPermanent},
		{"1000 without CloseStream", websocket.StatusNormalClosure, "bye",
			&stages.UpstreamError{CloseCode: 1000, Reason: "closed without CloseStream: bye"}, stages.ClassRetryable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			s, fc := f.dial(t, f.provider(t, deepgram.Config{}))
			fc.close(t, tc.code, tc.reason)
			_, err := recv(t, s)
			td.Cmp(t, err, tc.want)
			td.Cmp(t, stages.Classify(err), tc.class)
			td.Cmp(t, err, td.Not(td.ErrorIs(io.EOF)))
			err2 := s.SendAudio(context.Background(), []byte{0, 0})
			td.Cmp(t, err2, td.Shallow(err), "senders learn how the stream ended")
		})
	}
}

func TestRecvAbruptClose(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	s, fc := f.dial(t, f.provider(t, deepgram.Config{}))
	fc.drop(t)
	_, err := recv(t, s)
	td.Cmp(t, err, td.Struct(&stages.UpstreamError{CloseCode: 1006}, td.StructFields{"Err": td.NotNil()}))
	td.Cmp(t, stages.Classify(err), stages.ClassRetryable)
	td.Cmp(t, err, td.Not(td.ErrorIs(io.EOF)), "a drop must not look like a normal end")
}

func TestRecvInBandError(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	s, fc := f.dial(t, f.provider(t, deepgram.Config{APIKey: "dg-secret"}))
	fc.send(t, `{"type":"Error","description":"internal failure for dg-secret","message":"","variant":"INTERNAL"}`)
	_, err := recv(t, s)
	td.Cmp(t, err, &stages.UpstreamError{Code: "INTERNAL", Reason: "internal failure for [redacted]"})
	td.Cmp(t, stages.Classify(err), stages.ClassRetryable)
	_, err2 := recv(t, s)
	td.Cmp(t, err2, td.Shallow(err), "sticky")
}

func TestRecvMalformed(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	s, fc := f.dial(t, f.provider(t, deepgram.Config{}))
	fc.send(t, `{"type":"Results","start":"zero"}`)
	_, err := recv(t, s)
	td.Cmp(t, err, td.All(td.Isa(&stages.UpstreamError{}), td.ErrorIs(deepgram.ErrMalformed)))
	td.Cmp(t, stages.Classify(err), stages.ClassRetryable)
}

func TestRecvReadLimit(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	s, fc := f.dial(t, f.provider(t, deepgram.Config{ReadLimitBytes: 1024}))
	fc.send(t, `{"type":"Metadata","pad":"`+strings.Repeat("x", 2048)+`"}`)
	_, err := recv(t, s)
	td.Cmp(t, err, td.Struct(&stages.UpstreamError{CloseCode: 1009}, nil))
	td.Cmp(t, stages.Classify(err), stages.ClassRetryable)
}

func TestRecvLargeMessageWithinLimit(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	s, fc := f.dial(t, f.provider(t, deepgram.Config{}))
	var b strings.Builder
	b.WriteString(`{"type":"Results","is_final":true,"channel":{"alternatives":[{"words":[`)
	for i := range 2000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"word":"w","start":1,"end":2,"confidence":0.5,"punctuated_word":"W."}`)
	}
	b.WriteString(`]}]}}`)
	fc.send(t, b.String())
	fc.send(t, resultsHello)
	res, err := recv(t, s)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res.Words, td.Len(2000))
	res, err = recv(t, s)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res.Words, td.Len(1), "the next frame after a large one parses cleanly")
}

func TestCloseUnblocksRecv(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	s, _ := f.dial(t, f.provider(t, deepgram.Config{}))
	errc := make(chan error, 1)
	go func() {
		_, err := s.Recv(context.Background())
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond) // let Recv block (not required for correctness)
	done := make(chan struct{})
	for range 3 { // concurrent, repeated Close
		go func() {
			td.CmpNoError(t, s.Close())
			done <- struct{}{}
		}()
	}
	for range 3 {
		<-done
	}
	select {
	case err := <-errc:
		td.Cmp(t, err, td.ErrorIs(deepgram.ErrClosed))
	case <-time.After(time.Second):
		t.Fatal("Recv still blocked after Close")
	}
	_, err := s.Recv(context.Background())
	td.Cmp(t, err, td.ErrorIs(deepgram.ErrClosed))
	td.Cmp(t, s.SendAudio(context.Background(), []byte{1, 2}), td.ErrorIs(deepgram.ErrClosed))
	td.Cmp(t, s.SendControl(context.Background(), stages.ControlKeepAlive), td.ErrorIs(deepgram.ErrClosed))
}

func TestRecvContextCancel(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	s, _ := f.dial(t, f.provider(t, deepgram.Config{}))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err := s.Recv(ctx)
	td.Cmp(t, err, td.ErrorIs(context.Canceled))
	td.Cmp(t, stages.Classify(err), stages.ClassAborted)
	err = s.SendAudio(context.Background(), []byte{1, 2})
	td.Cmp(t, err, td.NotNil(), "a cancelled read closes the whole connection")
	td.Cmp(t, errors.Is(err, io.EOF), false)
}
