package emulate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
)

// checkRefusal checks a Deepgram-style refused upgrade.
func checkRefusal(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	if !td.Cmp(t, resp, td.NotNil(), "a refusal has a response") {
		return
	}
	td.Cmp(t, resp.StatusCode, status)
	td.Cmp(t, resp.Header.Get("dg-error"), code)
	id := resp.Header.Get("dg-request-id")
	td.Cmp(t, id, td.Re(uuidRe))
	td.Cmp(t, resp.Header.Get("Content-Type"), "application/json")
	body, err := io.ReadAll(resp.Body)
	td.CmpNoError(t, err)
	td.Cmp(t, json.RawMessage(body), td.JSON(`{"err_code": $1, "err_msg": $2, "request_id": $3}`,
		code, td.NotEmpty(), id))
}

func TestAuth(t *testing.T) {
	h := newHarness(t, emulate.Config{APIKey: testKey})
	ctx := testCtx(t)
	for _, tc := range []struct {
		name   string
		hdr    http.Header
		protos []string // offered subprotocols
		ok     bool
		proto  string // selected subprotocol
	}{
		{name: "token", hdr: http.Header{"Authorization": {"Token " + testKey}}, ok: true},
		{name: "token lower case", hdr: http.Header{"Authorization": {"token " + testKey}}, ok: true},
		{name: "bearer", hdr: http.Header{"Authorization": {"BEARER " + testKey}}, ok: true},
		{name: "browser subprotocol", protos: []string{"token", testKey}, ok: true, proto: "token"},
		{name: "missing", hdr: http.Header{}},
		{name: "wrong key", hdr: http.Header{"Authorization": {"Token nope"}}},
		{name: "key prefix", hdr: http.Header{"Authorization": {"Token " + testKey[:5]}}},
		{name: "basic scheme", hdr: http.Header{"Authorization": {"Basic " + testKey}}},
		{name: "bare key", hdr: http.Header{"Authorization": {testKey}}},
		{name: "wrong subprotocol key", protos: []string{"token", "nope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, resp, err := websocket.Dial(ctx, h.url(stdParams), &websocket.DialOptions{HTTPHeader: tc.hdr, Subprotocols: tc.protos})
			if !tc.ok {
				td.CmpError(t, err)
				checkRefusal(t, resp, http.StatusUnauthorized, "INVALID_AUTH")
				return
			}
			td.Require(t).CmpNoError(err)
			defer c.CloseNow()
			td.Cmp(t, resp.Header.Get("dg-request-id"), td.Re(uuidRe))
			td.Cmp(t, c.Subprotocol(), tc.proto)
			sendText(t, ctx, c, `{"type":"CloseStream"}`)
			_, err = readAll(t, ctx, c)
			td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
			td.Cmp(t, h.summary(t).ID, resp.Header.Get("dg-request-id"))
		})
	}
	td.Cmp(t, h.srv.Stats(), emulate.Stats{UpgradeAttempts: 10, Refused: 6, Accepted: 4})
}

func TestNoKeyConfiguredAcceptsAnyone(t *testing.T) {
	h := newHarness(t, emulate.Config{})
	c, _, err := h.dial(testCtx(t), stdParams, "")
	td.Require(t).CmpNoError(err)
	c.CloseNow()
}

func TestBadParams(t *testing.T) {
	h := newHarness(t, emulate.Config{APIKey: testKey})
	for _, q := range []string{
		"sample_rate=16000",
		"encoding=opus&sample_rate=16000",
		"encoding=mulaw&sample_rate=8000",
		"encoding=linear16",
		"encoding=linear16&sample_rate=abc",
		"encoding=linear16&sample_rate=0",
		"encoding=linear16&sample_rate=-16000",
		"encoding=linear16&sample_rate=16000&channels=2",
	} {
		t.Run(q, func(t *testing.T) {
			_, resp, err := h.dial(testCtx(t), q, testKey)
			td.CmpError(t, err)
			checkRefusal(t, resp, http.StatusBadRequest, "Bad Request")
		})
	}
	td.Cmp(t, h.srv.Stats().Accepted, int64(0))
}

func TestOtherPathsAre404(t *testing.T) {
	h := newHarness(t, emulate.Config{})
	resp, err := http.Get(h.http.URL + "/v1/speak?" + stdParams)
	td.Require(t).CmpNoError(err)
	resp.Body.Close()
	td.Cmp(t, resp.StatusCode, http.StatusNotFound)
	td.Cmp(t, h.srv.Stats().UpgradeAttempts, int64(0))
}

func TestPlainHTTPIsRefused(t *testing.T) {
	h := newHarness(t, emulate.Config{})
	resp, err := http.Get(h.http.URL + "/v1/listen?" + stdParams)
	td.Require(t).CmpNoError(err)
	resp.Body.Close()
	td.Cmp(t, resp.StatusCode, td.Between(400, 499))
	td.Cmp(t, h.srv.Stats(), emulate.Stats{UpgradeAttempts: 1, Refused: 1})
}

func TestRefuseFirst(t *testing.T) {
	h := newHarness(t, emulate.Config{APIKey: testKey, Faults: emulate.Faults{RefuseFirst: 2, RefuseStatus: 429, RetryAfterSec: 3}})
	ctx := testCtx(t)
	for i := range 2 {
		_, resp, err := h.dial(ctx, stdParams, testKey)
		td.CmpError(t, err, "attempt %d", i)
		checkRefusal(t, resp, http.StatusTooManyRequests, "TOO_MANY_REQUESTS")
		td.Cmp(t, resp.Header.Get("Retry-After"), "3")
	}
	c, resp, err := h.dial(ctx, stdParams, testKey)
	td.Require(t).CmpNoError(err)
	defer c.CloseNow()
	td.Cmp(t, resp.Header.Get("Retry-After"), "")
	td.Cmp(t, h.srv.Stats(), emulate.Stats{UpgradeAttempts: 3, Refused: 2, Accepted: 1, Active: 1})
}

func TestRefuseStatusCodes(t *testing.T) {
	for _, tc := range []struct {
		status, want int
		code         string
	}{
		{400, 400, "Bad Request"},
		{401, 401, "INVALID_AUTH"},
		{402, 402, "ASR_PAYMENT_REQUIRED"},
		{403, 403, "INSUFFICIENT_PERMISSIONS"},
		{429, 429, "TOO_MANY_REQUESTS"},
		{500, 500, "INTERNAL_SERVER_ERROR"},
		{502, 502, "BAD_GATEWAY"},
		{503, 503, "SERVICE_UNAVAILABLE"},
		{504, 504, "GATEWAY_TIMEOUT"},
		{0, 503, "SERVICE_UNAVAILABLE"}, // the default
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			h := newHarness(t, emulate.Config{Faults: emulate.Faults{RefuseFirst: 1, RefuseStatus: tc.status}})
			_, resp, err := h.dial(testCtx(t), stdParams, "")
			td.CmpError(t, err)
			checkRefusal(t, resp, tc.want, tc.code)
			td.Cmp(t, resp.Header.Get("Retry-After"), "", "no RetryAfterSec, no Retry-After")
		})
	}
}

func TestHandshakeDelay(t *testing.T) {
	h := newHarness(t, emulate.Config{Faults: emulate.Faults{HandshakeDelayMs: 150}})
	start := time.Now()
	c, _, err := h.dial(testCtx(t), stdParams, "")
	td.Require(t).CmpNoError(err)
	c.CloseNow()
	td.Cmp(t, time.Since(start), td.Gte(150*time.Millisecond))
}

func TestHandshakeDelayAbortedByClient(t *testing.T) {
	srv, err := emulate.NewServer(emulate.Config{Faults: emulate.Faults{HandshakeDelayMs: 60_000}}, nil)
	td.Require(t).CmpNoError(err)
	returned := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.Handler().ServeHTTP(w, r)
		close(returned)
	}))
	defer ts.Close()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(testCtx(t), 100*time.Millisecond)
	defer cancel()
	_, _, err = websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/v1/listen?"+stdParams, nil)
	td.CmpError(t, err)
	// The handler gives up when the client leaves, long before the delay
	// and without Close.
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("handler still waiting 5s after the client left")
	}
	td.Cmp(t, srv.Stats(), emulate.Stats{UpgradeAttempts: 1})
}

func TestHandshakeDelayAbortedByClose(t *testing.T) {
	h := newHarness(t, emulate.Config{Faults: emulate.Faults{HandshakeDelayMs: 60_000}})
	type dialed struct {
		resp *http.Response
		err  error
	}
	got := make(chan dialed, 1)
	go func() {
		_, resp, err := h.dial(testCtx(t), stdParams, "")
		got <- dialed{resp, err}
	}()
	for h.srv.Stats().UpgradeAttempts == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	td.CmpNoError(t, h.srv.Close())
	d := <-got
	td.CmpError(t, d.err)
	checkRefusal(t, d.resp, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE")
	// After Close every attempt is refused at once.
	_, resp, err := h.dial(testCtx(t), stdParams, "")
	td.CmpError(t, err)
	checkRefusal(t, resp, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE")
}

func TestBadConfig(t *testing.T) {
	for name, cfg := range map[string]emulate.Config{
		"idle":         {IdleTimeoutMs: -1},
		"refuse first": {Faults: emulate.Faults{RefuseFirst: -1}},
		"status 302":   {Faults: emulate.Faults{RefuseStatus: 302}},
		"status 600":   {Faults: emulate.Faults{RefuseStatus: 600}},
		"retry after":  {Faults: emulate.Faults{RetryAfterSec: -1}},
		"drop":         {Faults: emulate.Faults{DropAfterMs: -1}},
		"handshake":    {Faults: emulate.Faults{HandshakeDelayMs: -5}},
	} {
		_, err := emulate.NewServer(cfg, nil)
		td.Cmp(t, err, td.ErrorIs(emulate.ErrBadConfig), name)
	}
}
