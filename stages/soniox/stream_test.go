package soniox_test

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/soniox"
)

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
	s, fc := f.open(t)
	ctx := context.Background()
	td.CmpNoError(t, s.SendAudio(ctx, nil), "empty audio is a no-op")
	td.CmpNoError(t, s.SendAudio(ctx, []byte{}), "empty audio is a no-op")
	td.CmpNoError(t, s.SendAudio(ctx, []byte{0x10, 0x00, 0xf0, 0xff}))
	td.CmpNoError(t, s.SendControl(ctx, stages.ControlKeepAlive))
	td.CmpNoError(t, s.SendControl(ctx, stages.ControlFinalize))
	td.CmpNoError(t, s.SendControl(ctx, stages.ControlCloseStream))
	td.Cmp(t, s.SendControl(ctx, stages.Control(42)), td.ErrorIs(soniox.ErrUnknownControl))
	td.Cmp(t, []frame{fc.next(t), fc.next(t), fc.next(t), fc.next(t)}, []frame{
		{websocket.MessageBinary, "\x10\x00\xf0\xff"}, // the empty audio never left: it would end the stream
		{websocket.MessageText, `{"type":"keepalive"}`},
		{websocket.MessageText, `{"type":"finalize"}`},
		{websocket.MessageBinary, ""}, // CloseStream: the end of the audio
	})
}

func TestRecvWordsMarkersThenEOF(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	s, fc := f.open(t)
	fc.do(t, func(c *websocket.Conn) bool { // skipped: binary frames
		return c.Write(context.Background(), websocket.MessageBinary, []byte{1, 2, 3}) != nil
	})
	fc.send(t, resp(0, interim(" Hel", 0, 200)))                                              // skipped: nothing final
	fc.send(t, resp(300, fin(" Hel", 0, 200), fin("lo", 200, 300), interim(" th", 300, 400))) // skipped: held
	fc.send(t, resp(900, fin(" there", 400, 700).spk("2"), fin(".", 700, 710), endTok))
	res, err := recv(t, s)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res, stages.Result{
		Words: []stages.Word{
			word("hello", "Hello", 0, 0.3),
			{Word: "there", Punctuated: "there.", StartSec: 0.4, EndSec: 0.71, Speaker: 1, Confidence: 0.9},
		},
		StartSec: 0, DurationSec: 0.9, IsFinal: true, SpeechFinal: true,
	})

	td.CmpNoError(t, s.SendControl(context.Background(), stages.ControlFinalize))
	td.Cmp(t, fc.next(t).data, `{"type":"finalize"}`)
	fc.send(t, resp(1200, finTok))
	res, err = recv(t, s)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res, stages.Result{StartSec: 0.9, DurationSec: 0.3, IsFinal: true, FromFinalize: true},
		"an empty <fin> answers the Finalize")

	td.CmpNoError(t, s.SendControl(context.Background(), stages.ControlCloseStream))
	td.Cmp(t, fc.next(t), frame{websocket.MessageBinary, ""})
	fc.send(t, resp(1500, fin(" Bye", 1300, 1500)))
	fc.send(t, `{"tokens":[],"final_audio_proc_ms":1600,"total_audio_proc_ms":1600,"finished":true}`)
	fc.close(t, websocket.StatusNormalClosure, "")
	res, err = recv(t, s)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res.Words, []stages.Word{word("bye", "Bye", 1.3, 1.5)}, "finished flushes the held word")
	_, err = recv(t, s)
	td.Cmp(t, err, io.EOF)
	_, err = recv(t, s)
	td.Cmp(t, err, io.EOF, "the end is sticky")
}

func TestRecvNormalEndFlushesHeldWord(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	s, fc := f.open(t)
	td.CmpNoError(t, s.SendControl(context.Background(), stages.ControlCloseStream))
	fc.send(t, resp(500, fin(" Last", 0, 400)))
	fc.close(t, websocket.StatusNormalClosure, "")
	res, err := recv(t, s)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, res.Words, []stages.Word{word("last", "Last", 0, 0.4)}, "no finished: the close completes the word")
	_, err = recv(t, s)
	td.Cmp(t, err, io.EOF)
}

func TestRecvUnaskedEnds(t *testing.T) {
	t.Parallel()
	for name, finished := range map[string]bool{"finished": true, "closed": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			s, fc := f.open(t)
			fc.send(t, resp(500, fin(" Half", 0, 400)))
			if finished {
				fc.send(t, `{"tokens":[],"final_audio_proc_ms":500,"total_audio_proc_ms":500,"finished":true}`)
				res, err := recv(t, s)
				td.Require(t).CmpNoError(err)
				td.Cmp(t, res.Words, td.Len(1), "the words of the finished stream still count")
			}
			fc.close(t, websocket.StatusNormalClosure, "")
			_, err := recv(t, s)
			td.Cmp(t, err, td.Struct(&stages.UpstreamError{CloseCode: 1000}, td.StructFields{"Reason": td.HasPrefix(name + " without CloseStream")}))
			td.Cmp(t, stages.Classify(err), stages.ClassRetryable, "not a normal end")
			td.Cmp(t, err, td.Not(td.ErrorIs(io.EOF)))
		})
	}
}

func TestRecvErrorResponses(t *testing.T) {
	t.Parallel()
	for _, tc := range errorCases {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			s, fc := f.open(t)
			fc.send(t, resp(300, fin(" held", 0, 300)))
			fc.send(t, `{"error_code":`+strconv.Itoa(tc.code)+`,"error_message":"`+tc.message+` (key `+testKey+`)"}`)
			fc.close(t, websocket.StatusNormalClosure, "")
			_, err := recv(t, s)
			td.Cmp(t, err, td.Struct(&stages.UpstreamError{
				HTTPStatus: tc.code, Code: "SONIOX-" + strconv.Itoa(tc.code), Reason: tc.message + " (key [redacted])",
			}, td.StructFields{"Err": td.ErrorIs(soniox.ErrResponse)}), "the held word is dropped: its audio is replayed")
			td.Cmp(t, stages.Classify(err), tc.class)
			td.Cmp(t, stages.Reason(err), td.Not(td.Contains(testKey)))
			_, err2 := recv(t, s)
			td.Cmp(t, err2, td.Shallow(err), "sticky")
			td.Cmp(t, s.SendAudio(context.Background(), []byte{0, 0}), td.Shallow(err), "senders learn how the stream ended")
		})
	}
}

func TestRecvCloseCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code   websocket.StatusCode
		reason string
		want   *stages.UpstreamError
		class  stages.Class
	}{
		{websocket.StatusPolicyViolation, "policy " + testKey, &stages.UpstreamError{CloseCode: 1008, Reason: "policy [redacted]"}, stages.ClassPermanent},
		{websocket.StatusPolicyViolation, "", &stages.UpstreamError{CloseCode: 1008, Reason: "closed by upstream"}, stages.ClassPermanent},
		{websocket.StatusInternalError, "oops", &stages.UpstreamError{CloseCode: 1011, Reason: "oops"}, stages.ClassRetryable},
		{websocket.StatusTryAgainLater, "busy", &stages.UpstreamError{CloseCode: 1013, Reason: "busy"}, stages.ClassRetryable},
	} {
		t.Run(strconv.Itoa(int(tc.code)), func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			s, fc := f.open(t)
			fc.close(t, tc.code, tc.reason)
			_, err := recv(t, s)
			td.Cmp(t, err, tc.want)
			td.Cmp(t, stages.Classify(err), tc.class)
		})
	}
}

func TestRecvAbruptClose(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	s, fc := f.open(t)
	td.CmpNoError(t, s.SendControl(context.Background(), stages.ControlCloseStream))
	fc.drop(t)
	_, err := recv(t, s)
	td.Cmp(t, err, td.Struct(&stages.UpstreamError{CloseCode: 1006}, td.StructFields{"Err": td.NotNil()}))
	td.Cmp(t, stages.Classify(err), stages.ClassRetryable)
	td.Cmp(t, err, td.Not(td.ErrorIs(io.EOF)), "a drop must not look like a normal end, even after CloseStream")
}

func TestRecvMalformedAndReadLimit(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	s, fc := f.open(t)
	fc.send(t, `{"tokens":[{"text":" x","start_ms":"zero"}]}`)
	_, err := recv(t, s)
	td.Cmp(t, err, td.All(td.Isa(&stages.UpstreamError{}), td.ErrorIs(soniox.ErrMalformed)))
	td.Cmp(t, stages.Classify(err), stages.ClassRetryable)

	s, fc, _ = f.dial(t, f.provider(t, soniox.Config{ReadLimitBytes: 1024}), en16k)
	fc.send(t, `{"tokens":[],"pad":"`+strings.Repeat("x", 2048)+`"}`)
	_, err = recv(t, s)
	td.Cmp(t, err, td.Struct(&stages.UpstreamError{CloseCode: 1009}, nil))
	td.Cmp(t, stages.Classify(err), stages.ClassRetryable)
}

func TestCloseUnblocksRecv(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	s, _ := f.open(t)
	errc := make(chan error, 1)
	go func() {
		_, err := s.Recv(context.Background())
		errc <- err
	}()
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
	td.Cmp(t, errc, td.Recv(td.ErrorIs(soniox.ErrClosed), waitFor))
	_, err := s.Recv(context.Background())
	td.Cmp(t, err, td.ErrorIs(soniox.ErrClosed))
	td.Cmp(t, s.SendAudio(context.Background(), []byte{1, 2}), td.ErrorIs(soniox.ErrClosed))
	td.Cmp(t, s.SendControl(context.Background(), stages.ControlKeepAlive), td.ErrorIs(soniox.ErrClosed))
}

func TestRecvContextCancel(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	s, _ := f.open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Recv(ctx)
	td.Cmp(t, err, td.ErrorIs(context.Canceled))
	td.Cmp(t, stages.Classify(err), stages.ClassAborted)
	err = s.SendAudio(context.Background(), []byte{1, 2})
	td.Cmp(t, err, td.All(td.NotNil(), td.Not(td.ErrorIs(io.EOF))), "a cancelled read closes the whole connection")
}
