package emulate_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/stages"
)

// closingRecognizer hears nothing and records its Close: how many calls,
// and how many streams the server counted active during the first.
type closingRecognizer struct {
	srv          func() *emulate.Server
	closes       *atomic.Int64
	activeAtShut *atomic.Int64
}

func (closingRecognizer) Accept([]byte) []stages.Word { return nil }
func (closingRecognizer) Flush() []stages.Word        { return nil }

func (r closingRecognizer) Close() error {
	if r.closes.Add(1) == 1 {
		r.activeAtShut.Store(r.srv().Stats().Active)
	}
	return errors.New("logged, not fatal")
}

func TestRecognizerRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"capacity", fmt.Errorf("pool: %w", stages.ErrCapacity), http.StatusTooManyRequests, "TOO_MANY_REQUESTS"},
		{"capacity as an upstream error", &stages.UpstreamError{HTTPStatus: 429, Err: stages.ErrCapacity},
			http.StatusTooManyRequests, "TOO_MANY_REQUESTS"},
		{"other", errors.New("secret detail: model missing"), http.StatusInternalServerError, "INTERNAL_SERVER_ERROR"},
		{"nil recognizer", nil, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			h := newHarness(t, emulate.Config{APIKey: testKey, Recognizer: func(rate int) (emulate.Recognizer, error) {
				calls.Add(1)
				td.Cmp(t, rate, testRate)
				return nil, tc.err
			}})
			_, resp, err := h.dial(testCtx(t), stdParams, testKey)
			td.CmpError(t, err)
			checkRefusal(t, resp, tc.status, tc.code)
			td.Cmp(t, h.srv.Stats(), emulate.Stats{UpgradeAttempts: 1, Refused: 1})
			td.Cmp(t, calls.Load(), int64(1))
		})
	}
}

func TestRecognizerRefusalBodyHidesTheError(t *testing.T) {
	h := newHarness(t, emulate.Config{Recognizer: func(int) (emulate.Recognizer, error) {
		return nil, errors.New("secret detail")
	}})
	_, resp, err := h.dial(testCtx(t), stdParams, "")
	td.CmpError(t, err)
	body, err := io.ReadAll(resp.Body)
	td.CmpNoError(t, err)
	td.Cmp(t, string(body), td.Not(td.Contains("secret")))
}

func TestRecognizerNotMadeForRefusedAttempts(t *testing.T) {
	var calls atomic.Int64
	h := newHarness(t, emulate.Config{APIKey: testKey, Recognizer: func(int) (emulate.Recognizer, error) {
		calls.Add(1)
		return nil, stages.ErrCapacity
	}})
	ctx := testCtx(t)
	_, resp, _ := h.dial(ctx, stdParams, "wrong")
	checkRefusal(t, resp, http.StatusUnauthorized, "INVALID_AUTH")
	_, resp, _ = h.dial(ctx, "encoding=opus&sample_rate=16000", testKey)
	checkRefusal(t, resp, http.StatusBadRequest, "Bad Request")
	td.Cmp(t, calls.Load(), int64(0), "auth and parameters are checked first")
}

// newClosingHarness serves streams with closingRecognizers sharing
// counters.
func newClosingHarness(t *testing.T) (h *harness, closes, activeAtClose *atomic.Int64) {
	t.Helper()
	closes, activeAtClose = new(atomic.Int64), new(atomic.Int64)
	h = newHarness(t, emulate.Config{Recognizer: func(int) (emulate.Recognizer, error) {
		return closingRecognizer{srv: func() *emulate.Server { return h.srv }, closes: closes, activeAtShut: activeAtClose}, nil
	}})
	return h, closes, activeAtClose
}

func TestRecognizerClosedWhenStreamEnds(t *testing.T) {
	h, closes, activeAtClose := newClosingHarness(t)
	ctx := testCtx(t)
	c := h.mustDial(t, ctx)
	sendText(t, ctx, c, `{"type":"CloseStream"}`)
	_, err := readAll(t, ctx, c)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
	td.Cmp(t, h.summary(t).End, emulate.EndCloseStream)
	td.Cmp(t, closes.Load(), int64(1), "closed once, before OnStreamEnd")
	td.Cmp(t, activeAtClose.Load(), int64(1), "closed before the stream leaves Active")
	td.Cmp(t, h.srv.Stats().Active, int64(0))
}

func TestRecognizerClosedWhenClientLeaves(t *testing.T) {
	h, closes, _ := newClosingHarness(t)
	c := h.mustDial(t, testCtx(t))
	c.CloseNow()
	td.Cmp(t, h.summary(t).End, emulate.EndClientGone)
	td.Cmp(t, closes.Load(), int64(1))
}

func TestRecognizerClosedWhenUpgradeFails(t *testing.T) {
	h, closes, _ := newClosingHarness(t)
	// Plain HTTP: the recognizer is made, then the upgrade fails.
	resp, err := http.Get(h.http.URL + "/v1/listen?" + stdParams)
	td.Require(t).CmpNoError(err)
	resp.Body.Close()
	td.Cmp(t, resp.StatusCode, td.Between(400, 499))
	td.Cmp(t, closes.Load(), int64(1), "the handler has returned with the response")
	td.Cmp(t, h.srv.Stats(), emulate.Stats{UpgradeAttempts: 1, Refused: 1})
}
