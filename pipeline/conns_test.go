package pipeline_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/memnet"
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

// TestHTTPReadTimeoutEndsAtTheUpgrade: a request whose body trickles in
// is cut off at ReadTimeoutMs, while a WebSocket session upgraded on the
// same server lives on well past it (the request's read deadline is
// cleared at the upgrade).
func TestHTTPReadTimeoutEndsAtTheUpgrade(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := stagestest.NewProvider()
		srv, err := pipeline.New(pipeline.Config{APIKeys: []string{testKey}}, pipeline.Deps{
			Provider: p, Logger: slog.New(slog.DiscardHandler),
		})
		td.Require(t).CmpNoError(err)
		mem := memnet.Listen()
		hs, ln := pipeline.NewHTTPServer(srv, mem, pipeline.HTTPConfig{ReadHeaderTimeoutMs: 1000, ReadTimeoutMs: 2000}, nil)
		go func() { _ = hs.Serve(ln) }()
		defer func() {
			_ = srv.Shutdown(context.Background())
			_ = hs.Close()
		}()

		slow, err := mem.Dial(t.Context(), "", "")
		td.Require(t).CmpNoError(err)
		defer slow.Close()
		go func() {
			_, _ = io.WriteString(slow, "POST /healthz HTTP/1.1\r\nHost: gateway\r\nContent-Length: 1000\r\n\r\n")
			for range 1000 {
				if _, err := io.WriteString(slow, "x"); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		cut := make(chan time.Duration, 1)
		start := time.Now()
		go func() {
			_, _ = io.Copy(io.Discard, slow) // ends when the server closes it
			cut <- time.Since(start)
		}()

		c, _, err := websocket.Dial(t.Context(), "ws://gateway/v4/listen", &websocket.DialOptions{
			HTTPClient: mem.Client(), HTTPHeader: http.Header{"Authorization": {"Bearer " + testKey}},
		})
		td.Require(t).CmpNoError(err)
		defer c.CloseNow()
		(<-p.Dials).Accept(stagestest.NewStream(64))
		td.Cmp(t, <-cut, td.Between(2*time.Second, 2100*time.Millisecond), "the trickled request was cut at the read timeout")

		readErr := make(chan error, 1)
		go func() { // reads what the gateway sends (statuses, pings)
			for {
				if _, _, err := c.Read(context.Background()); err != nil {
					readErr <- err
					return
				}
			}
		}()
		time.Sleep(10 * time.Second) // five read timeouts later
		td.CmpNoError(t, c.Write(t.Context(), websocket.MessageBinary, make([]byte, 3200)), "the session still takes audio")
		synctest.Wait()
		select {
		case err := <-readErr:
			t.Errorf("the session ended: %v", err)
		default:
		}
		_ = c.Close(websocket.StatusNormalClosure, "")
	})
}
