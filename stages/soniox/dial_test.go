package soniox_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/soniox"
)

func TestDialSendsAuthThenStartMessage(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	for _, tc := range []struct {
		sc   stages.StreamConfig
		want string
	}{
		{en16k, `{"model":"stt-rt-v4","audio_format":"pcm_s16le","sample_rate":16000,"num_channels":1,` +
			`"language_hints":["en"],"enable_speaker_diarization":true,"enable_endpoint_detection":true}`},
		{stages.StreamConfig{SampleRateHz: 48000, Channels: 1, Language: "multi"},
			`{"model":"stt-rt-v4","audio_format":"pcm_s16le","sample_rate":48000,"num_channels":1,` +
				`"enable_speaker_diarization":true,"enable_endpoint_detection":true}`},
	} {
		_, fc, start := f.dial(t, f.provider(t, soniox.Config{}), tc.sc)
		td.Cmp(t, fc.header.Get("Authorization"), "Bearer "+testKey)
		td.Cmp(t, fc.header.Get("Sec-WebSocket-Extensions"), "", "compression is off")
		td.Cmp(t, fc.path, "/transcribe-websocket")
		td.Cmp(t, start, frame{websocket.MessageText, tc.want}, "the start message comes first, without the key")
	}
}

func TestDialRefused(t *testing.T) {
	t.Parallel()
	httpDate := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	for _, tc := range []struct {
		name   string
		refuse refusal
		want   stages.UpstreamError
		class  stages.Class
		retry  td.TestDeep
	}{
		{"401 json echoing the key", refusal{401, nil, `{"error_code":401,"error_message":"Invalid API key ` + testKey + `."}`},
			stages.UpstreamError{HTTPStatus: 401, Code: "SONIOX-401", Reason: "Invalid API key [redacted]."},
			stages.ClassPermanent, td.Zero()},
		{"401 plain", refusal{401, nil, "Unauthorized\n"},
			stages.UpstreamError{HTTPStatus: 401, Reason: "Unauthorized"},
			stages.ClassPermanent, td.Zero()},
		{"402 balance", refusal{402, nil, `{"error_code":402,"error_message":"Balance exhausted."}`},
			stages.UpstreamError{HTTPStatus: 402, Code: "SONIOX-402", Reason: "Balance exhausted."},
			stages.ClassPermanent, td.Zero()},
		{"429 retry-after seconds", refusal{429, map[string]string{"Retry-After": "7"}, `{"error_code":429,"error_message":"Too many requests."}`},
			stages.UpstreamError{HTTPStatus: 429, Code: "SONIOX-429", Reason: "Too many requests."},
			stages.ClassRetryable, td.Between(7*time.Second, 7*time.Second)},
		{"503 retry-after date", refusal{503, map[string]string{"Retry-After": httpDate}, "<html>down</html>"},
			stages.UpstreamError{HTTPStatus: 503, Reason: "Service Unavailable"},
			stages.ClassRetryable, td.Between(25*time.Second, 31*time.Second)},
		{"503 bad retry-after", refusal{503, map[string]string{"Retry-After": "soon"}, ""},
			stages.UpstreamError{HTTPStatus: 503, Reason: "Service Unavailable"},
			stages.ClassRetryable, td.Zero()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(f *fakeSoniox) { f.refuse = &tc.refuse })
			s, err := f.provider(t, soniox.Config{}).Dial(context.Background(), en16k)
			td.Cmp(t, s, nil)
			td.Cmp(t, err, td.Isa(&stages.UpstreamError{}))
			td.Cmp(t, err, td.Struct(&tc.want, td.StructFields{"RetryAfter": tc.retry}))
			td.Cmp(t, stages.Classify(err), tc.class)
			td.Cmp(t, err.Error(), td.Not(td.Contains(testKey)))
		})
	}
}

func TestDialCancelDuringSlowHandshake(t *testing.T) {
	t.Parallel()
	hold := make(chan struct{})
	defer close(hold)
	f := newFake(t, func(f *fakeSoniox) { f.hold = hold })
	p := f.provider(t, soniox.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	s, err := p.Dial(ctx, en16k)
	td.Cmp(t, s, nil)
	td.Cmp(t, time.Since(start), td.Lt(time.Second), "returns promptly")
	td.Cmp(t, err, td.ErrorIs(context.Canceled))
	td.Cmp(t, stages.Classify(err), stages.ClassAborted)
}

func TestDialCancelledBeforehand(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := f.provider(t, soniox.Config{})
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("client left")
	cancel(cause)
	_, err := p.Dial(ctx, en16k)
	td.Cmp(t, err, td.All(td.ErrorIs(context.Canceled), td.ErrorIs(cause)))
	td.Cmp(t, stages.Classify(err), stages.ClassAborted)
}

func TestDialHandshakeTimeout(t *testing.T) {
	t.Parallel()
	hold := make(chan struct{})
	defer close(hold)
	f := newFake(t, func(f *fakeSoniox) { f.hold = hold })
	p := f.provider(t, soniox.Config{HandshakeTimeoutMs: 100})
	start := time.Now()
	_, err := p.Dial(context.Background(), en16k)
	td.Cmp(t, time.Since(start), td.Between(100*time.Millisecond, 2*time.Second))
	td.Cmp(t, err, td.Struct(&stages.UpstreamError{}, td.StructFields{
		"Reason": td.Contains("handshake timed out"),
		"Err":    td.ErrorIs(context.DeadlineExceeded),
	}))
	td.Cmp(t, stages.Classify(err), stages.ClassRetryable)
}

func TestDialNetworkError(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := f.provider(t, soniox.Config{})
	f.srv.Close() // nothing listens any more
	_, err := p.Dial(context.Background(), en16k)
	td.Cmp(t, err, td.Struct(&stages.UpstreamError{Reason: "connect failed"}, td.StructFields{"Err": td.NotNil()}))
	td.Cmp(t, stages.Classify(err), stages.ClassRetryable)
	td.Cmp(t, err, td.Not(td.ErrorIs(io.EOF)))
}

func TestDialContextDoesNotBindStream(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := f.provider(t, soniox.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := p.Dial(ctx, en16k)
	td.Require(t).CmpNoError(err)
	defer s.Close()
	fc := f.accept(t)
	td.Cmp(t, fc.next(t).typ, websocket.MessageText, "start message")
	cancel()
	// A round trip after the cancellation: audio out, a result back.
	td.CmpNoError(t, s.SendAudio(context.Background(), []byte{1, 2}))
	td.Cmp(t, fc.next(t), frame{websocket.MessageBinary, "\x01\x02"})
	fc.send(t, resp(100, fin(" ok", 0, 100), endTok))
	res, err := recv(t, s)
	td.CmpNoError(t, err)
	td.Cmp(t, res.Words, td.Len(1))
}
