package pipeline_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/pipeline"
	"earshot/stages/stagestest"
)

// limited serves a gateway over loopback TCP behind NewHTTPServer with a
// cap of limit connections.
type limited struct {
	addr string
	ln   net.Listener
	set  *metrics.Set
}

func serveLimited(t *testing.T, limit int) *limited {
	t.Helper()
	set := metrics.NewSet()
	srv, err := pipeline.New(pipeline.Config{APIKeys: []string{testKey}}, pipeline.Deps{
		Provider: stagestest.NewProvider(), Metrics: set, Logger: slog.New(slog.DiscardHandler),
	})
	td.Require(t).CmpNoError(err)
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	td.Require(t).CmpNoError(err)
	hs, ln := pipeline.NewHTTPServer(srv, raw, pipeline.HTTPConfig{MaxConns: limit}, set)
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = hs.Close()
	})
	return &limited{addr: raw.Addr().String(), ln: ln, set: set}
}

// get sends GET path on c (keeping it alive) and returns the status.
func get(t *testing.T, c net.Conn, path string) int {
	t.Helper()
	_, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: gateway\r\n\r\n")
	td.Require(t).CmpNoError(err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	td.Require(t).CmpNoError(err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// until polls cond (the server's side of a socket changes on its own
// goroutines) for at most 5 s.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5 s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func dialTCP(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	td.Require(t).CmpNoError(err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestHTTPIdleFloodNeverStopsNewConnections: at the cap, idle keep-alive
// connections (one GET /healthz, then nothing) and connections that never
// sent a byte make room for new ones, so /healthz keeps answering; the
// open connections never exceed the cap.
func TestHTTPIdleFloodNeverStopsNewConnections(t *testing.T) {
	const limit = 8
	t.Run("idle keep-alives", func(t *testing.T) {
		g := serveLimited(t, limit)
		for range limit {
			td.Cmp(t, get(t, dialTCP(t, g.addr), "/healthz"), 200)
		}
		until(t, "all idle", func() bool { _, idle := pipeline.ConnsIn(g.ln); return idle == limit })
		for range 3 * limit {
			td.Cmp(t, get(t, dialTCP(t, g.addr), "/healthz"), 200, "a new connection is served")
			open, _ := pipeline.ConnsIn(g.ln)
			td.Cmp(t, open, td.Lte(limit))
		}
		td.Cmp(t, stagestest.MetricValue(t, g.set, `earshot_http_connections_evicted_total{state="idle"}`), td.Gte(float64(2*limit)))
		td.Cmp(t, stagestest.MetricValue(t, g.set, `earshot_http_connections_refused_total`), 0.0)
	})
	t.Run("connections that send nothing", func(t *testing.T) {
		g := serveLimited(t, limit)
		for range limit {
			dialTCP(t, g.addr)
		}
		until(t, "all accepted", func() bool { open, _ := pipeline.ConnsIn(g.ln); return open == limit })
		td.Cmp(t, get(t, dialTCP(t, g.addr), "/healthz"), 200)
		td.Cmp(t, stagestest.MetricValue(t, g.set, `earshot_http_connections_evicted_total{state="new"}`), 1.0)
	})
}

// TestHTTPAtTheCapOfSessionsRefusesClearly: when every connection is a
// session (upgraded, never evicted), a new connection gets a 503 with a
// reason, counted.
func TestHTTPAtTheCapOfSessionsRefusesClearly(t *testing.T) {
	const limit = 4
	g := serveLimited(t, limit)
	h := http.Header{"Authorization": {"Bearer " + testKey}}
	for range limit {
		c, _, err := websocket.Dial(context.Background(), "ws://"+g.addr+"/v4/listen", &websocket.DialOptions{HTTPHeader: h})
		td.Require(t).CmpNoError(err)
		t.Cleanup(func() { _ = c.CloseNow() })
	}
	c := dialTCP(t, g.addr)
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	td.Require(t).CmpNoError(err)
	body, _ := io.ReadAll(resp.Body)
	td.Cmp(t, resp.StatusCode, 503)
	td.Cmp(t, string(body), "too many connections now\n")
	td.Cmp(t, stagestest.MetricValue(t, g.set, `earshot_http_connections_refused_total`), 1.0)
	open, _ := pipeline.ConnsIn(g.ln)
	td.Cmp(t, open, limit)
}
