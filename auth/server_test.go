package auth_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	"earshot/auth"
)

// jwksHandler serves a JWKS document the test can change, and counts
// the requests it got.
type jwksHandler struct {
	mu           sync.Mutex
	body         []byte
	status       int           // 0 → 200
	cacheControl string        // Cache-Control of 200 answers
	hang         chan struct{} // non-nil: requests wait until it closes or the client gives up
	fetches      atomic.Int32
}

func (h *jwksHandler) setBody(b []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.body, h.status = b, 0
}

func (h *jwksHandler) setStatus(code int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status = code
}

func (h *jwksHandler) setHang(ch chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hang = ch
}

func (h *jwksHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.fetches.Add(1)
	h.mu.Lock()
	body, status, cc, hang := h.body, h.status, h.cacheControl, h.hang
	h.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
		return
	}
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	if cc != "" {
		w.Header().Set("Cache-Control", cc)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// newServer serves h over loopback until the end of the test.
func newServer(t testing.TB, h *jwksHandler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// hangUntilEnd makes h hold every request until the client gives up or
// the test ends (cleanups registered after the server's run first).
func (h *jwksHandler) hangUntilEnd(t testing.TB) {
	ch := make(chan struct{})
	h.setHang(ch)
	t.Cleanup(func() { close(ch) })
}

// memTransport takes HTTP requests to h in memory (for synctest
// bubbles); while down, requests fail as if the host were unreachable.
type memTransport struct {
	h        *jwksHandler
	down     atomic.Bool
	attempts atomic.Int32
}

func (m *memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	m.attempts.Add(1)
	if m.down.Load() {
		return nil, errors.New("dial tcp: connection refused")
	}
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, r)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	return rec.Result(), nil
}

// clock is an injected Deps.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(at time.Time) *clock { return &clock{now: at} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// rig is a Verifier on a loopback JWKS server.
type rig struct {
	h     *jwksHandler
	srv   *httptest.Server
	set   *metrics.Set
	clock *clock
	v     *auth.Verifier
}

// newRig serves jwks and builds a Verifier on it; cfg's Issuer, Audience
// and JWKSURL are filled in when empty.
func newRig(t testing.TB, jwks []byte, cfg auth.Config) *rig {
	t.Helper()
	r := &rig{h: &jwksHandler{body: jwks}, set: metrics.NewSet(), clock: newClock(t0)}
	r.srv = newServer(t, r.h)
	if cfg.JWKSURL == "" && cfg.JWKSFile == "" {
		cfg.JWKSURL = r.srv.URL + "/jwks.json"
	}
	r.v = newVerifier(t, cfg, auth.Deps{Metrics: r.set, Now: r.clock.Now})
	return r
}

// newVerifier fills cfg's Issuer and Audience when empty, calls New and
// closes the Verifier at the end of the test.
func newVerifier(t testing.TB, cfg auth.Config, deps auth.Deps) *auth.Verifier {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = testIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = testAudience
	}
	v, err := auth.New(cfg, deps)
	td.Require(t).CmpNoError(err)
	t.Cleanup(func() { td.CmpNoError(t, v.Close()) })
	return v
}

func (r *rig) verify(raw string) (auth.Identity, error) {
	return r.v.Verify(context.Background(), raw)
}

// metricValue reads one series of set, -1 when absent.
func metricValue(t testing.TB, set *metrics.Set, series string) float64 {
	t.Helper()
	var buf bytes.Buffer
	set.WritePrometheus(&buf)
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			td.Require(t).CmpNoError(err)
			return f
		}
	}
	return -1
}

// eventually polls cond every 10 ms until it holds or 10 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}
