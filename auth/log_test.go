package auth_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/maxatome/go-testdeep/td"

	"earshot/auth"
)

// syncBuffer is a bytes.Buffer safe for the refresher's goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLogsNeverShowTokenOrSubject(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	k := rsaSigner(t, "k", 0)
	h := &jwksHandler{body: jwksOf(t, k)}
	srv := newServer(t, h)
	clk := newClock(t0)
	v := newVerifier(t, auth.Config{JWKSURL: srv.URL}, auth.Deps{Logger: log, Now: clk.Now})

	expired := claims(t0)
	expired["exp"] = jwt.NewNumericDate(t0.Add(-time.Hour))
	wrongIss := claims(t0)
	wrongIss["iss"] = "https://evil.test"
	tokens := []string{
		k.sign(t, claims(t0)),
		k.sign(t, expired),
		k.sign(t, wrongIss),
		rsaSigner(t, "unknown", 1).sign(t, claims(t0)),
		"Bearer " + k.sign(t, claims(t0)),
	}
	for _, raw := range tokens {
		_, _ = v.Verify(context.Background(), raw)
	}
	h.setStatus(http.StatusBadGateway)
	clk.Advance(time.Hour)
	_, _ = v.Verify(context.Background(), rsaSigner(t, "unknown-2", 1).sign(t, claims(t0.Add(time.Hour))))

	out := logs.String()
	td.Cmp(t, out, td.Contains(`"msg":"token refused"`))
	td.Cmp(t, out, td.Contains(`"msg":"jwks load failed; keeping cached keys"`))
	td.Cmp(t, out, td.Contains(`status 502`))
	td.CmpFalse(t, strings.Contains(out, testSubject), "a subject was logged")
	for _, raw := range tokens {
		for _, part := range strings.Split(strings.TrimPrefix(raw, "Bearer "), ".") {
			td.CmpFalse(t, strings.Contains(out, part), "a token part was logged")
		}
	}
}

func TestNewWarnsWhenTheURLIsDown(t *testing.T) {
	var logs syncBuffer
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	v := newVerifier(t, auth.Config{JWKSURL: url + "/jwks?token=x", FetchTimeoutMs: 500},
		auth.Deps{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	td.Cmp(t, v.Keys(), 0)
	td.Cmp(t, logs.String(), td.Re(`"level":"WARN","msg":"jwks load failed`))
}
