package deepgram_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/deepgram"
)

func TestDialSendsParamsAndAuth(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := f.provider(t, deepgram.Config{APIKey: "dg-secret", Extra: url.Values{"keyterm": {"Omi"}}})
	_, fc := f.dial(t, p)
	td.Cmp(t, fc.header.Get("Authorization"), "Token dg-secret")
	td.Cmp(t, fc.header.Get("Sec-WebSocket-Extensions"), "", "compression is off")
	td.Cmp(t, fc.url.Path, "/v1/listen")
	td.Cmp(t, fc.url.Query(), url.Values{
		"model": {"nova-3"}, "language": {"en"}, "encoding": {"linear16"},
		"sample_rate": {"16000"}, "channels": {"1"}, "punctuate": {"true"},
		"no_delay": {"true"}, "endpointing": {"300"}, "interim_results": {"false"},
		"smart_format": {"true"}, "diarize": {"true"}, "filler_words": {"false"},
		"keyterm": {"Omi"},
	})
}

func TestDialRefused(t *testing.T) {
	t.Parallel()
	body := func(code, msg string) string {
		return `{"err_code":"` + code + `","err_msg":"` + msg + `","request_id":"8f2c"}`
	}
	httpDate := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	for _, tc := range []struct {
		name   string
		refuse refusal
		want   stages.UpstreamError
		class  stages.Class
		retry  td.TestDeep
	}{
		{"400 bad params", refusal{400, map[string]string{"dg-error": "Bad Request: No such model."},
			body("Bad Request", "No such model/language/tier combination found.")},
			stages.UpstreamError{HTTPStatus: 400, Code: "Bad Request", Reason: "No such model/language/tier combination found."},
			stages.ClassPermanent, td.Zero()},
		{"401 invalid auth", refusal{401, map[string]string{"dg-error": "INVALID_AUTH"}, "not json"},
			stages.UpstreamError{HTTPStatus: 401, Code: "INVALID_AUTH", Reason: "Unauthorized"},
			stages.ClassPermanent, td.Zero()},
		{"402 no credit", refusal{402, nil, body("ASR_PAYMENT_REQUIRED", "Project does not have enough credits.")},
			stages.UpstreamError{HTTPStatus: 402, Code: "ASR_PAYMENT_REQUIRED", Reason: "Project does not have enough credits."},
			stages.ClassPermanent, td.Zero()},
		{"403 permissions", refusal{403, map[string]string{"dg-error": "Insufficient permissions."}, ""},
			stages.UpstreamError{HTTPStatus: 403, Reason: "Insufficient permissions."},
			stages.ClassPermanent, td.Zero()},
		{"429 seconds", refusal{429, map[string]string{"Retry-After": "7"}, body("TOO_MANY_REQUESTS", "Too many requests.")},
			stages.UpstreamError{HTTPStatus: 429, Code: "TOO_MANY_REQUESTS", Reason: "Too many requests."},
			stages.ClassRetryable, td.Between(7*time.Second, 7*time.Second)},
		{"503 http date", refusal{503, map[string]string{"Retry-After": httpDate}, ""},
			stages.UpstreamError{HTTPStatus: 503, Reason: "Service Unavailable"},
			stages.ClassRetryable, td.Between(25*time.Second, 31*time.Second)},
		{"503 bad retry-after", refusal{503, map[string]string{"Retry-After": "soon"}, ""},
			stages.UpstreamError{HTTPStatus: 503, Reason: "Service Unavailable"},
			stages.ClassRetryable, td.Zero()},
		{"429 echoes key", refusal{429, nil, body("TOO_MANY_REQUESTS", "key dg-secret is over its limit")},
			stages.UpstreamError{HTTPStatus: 429, Code: "TOO_MANY_REQUESTS", Reason: "key [redacted] is over its limit"},
			stages.ClassRetryable, td.Zero()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(f *fakeDG) { f.refuse = &tc.refuse })
			p := f.provider(t, deepgram.Config{APIKey: "dg-secret"})
			s, err := p.Dial(context.Background(), en16k)
			td.Cmp(t, s, nil)
			td.Cmp(t, err, td.Isa(&stages.UpstreamError{}))
			td.Cmp(t, err, td.Struct(&tc.want, td.StructFields{"RetryAfter": tc.retry}))
			td.Cmp(t, stages.Classify(err), tc.class)
			td.Cmp(t, err.Error(), td.Not(td.Contains("dg-secret")))
		})
	}
}

func TestDialCancelDuringSlowHandshake(t *testing.T) {
	t.Parallel()
	hold := make(chan struct{})
	defer close(hold)
	f := newFake(t, func(f *fakeDG) { f.hold = hold })
	p := f.provider(t, deepgram.Config{})
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
	p := f.provider(t, deepgram.Config{})
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
	f := newFake(t, func(f *fakeDG) { f.hold = hold })
	p := f.provider(t, deepgram.Config{HandshakeTimeoutMs: 100})
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
	p := f.provider(t, deepgram.Config{})
	f.srv.Close() // nothing listens any more
	_, err := p.Dial(context.Background(), en16k)
	td.Cmp(t, err, td.Struct(&stages.UpstreamError{Reason: "connect failed"}, td.StructFields{"Err": td.NotNil()}))
	td.Cmp(t, stages.Classify(err), stages.ClassRetryable)
	td.Cmp(t, err, td.Not(td.ErrorIs(io.EOF)))
}

func TestDialContextDoesNotBindStream(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := f.provider(t, deepgram.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := p.Dial(ctx, en16k)
	td.Require(t).CmpNoError(err)
	defer s.Close()
	fc := f.accept(t)
	cancel()
	time.Sleep(20 * time.Millisecond)
	td.CmpNoError(t, s.SendAudio(context.Background(), []byte{1, 2}))
	td.Cmp(t, fc.next(t), frame{websocket.MessageBinary, "\x01\x02"})
}
