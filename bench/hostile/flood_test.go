package hostile_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// raiseNofile lifts this process's descriptor limit to its hard limit:
// the flood needs one descriptor per connection.
func raiseNofile(t *testing.T, need int) {
	t.Helper()
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		t.Fatal(err)
	}
	if r.Cur < r.Max {
		r.Cur = r.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	}
	if int(r.Cur) < need+64 {
		t.Skipf("needs %d descriptors; the hard limit is %d", need+64, r.Max)
	}
}

// TestIdleFloodNeverStopsSessions: connections that each make one
// keep-alive GET /healthz and then sit idle, and connections that send
// nothing at all, more of them than the gateway has descriptors for.
// New sessions and /healthz must still be served, and the gateway must
// hold no more descriptors than its connection cap allows.
func TestIdleFloodNeverStopsSessions(t *testing.T) {
	nofile := scale(1024, 8192)
	idle, silent := scale(1200, 16000), scale(200, 2000)
	raiseNofile(t, idle+silent)
	up := startUpstream(t)
	g := startGateway(t, up, nofile)
	before := g.fds()

	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	// The flood is bounded in time: a gateway out of descriptors stops
	// accepting, and each dial then waits for its timeout.
	start := time.Now()
	deadline := start.Add(time.Duration(scale(30, 120)) * time.Second)
	answered, failed := 0, 0
	for range idle {
		if time.Now().After(deadline) {
			break
		}
		c, err := net.DialTimeout("tcp", g.addr, time.Second)
		if err != nil {
			failed++
			continue
		}
		conns = append(conns, c)
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"); err != nil {
			continue
		}
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			answered++
		}
	}
	for range silent {
		if time.Now().After(deadline) {
			break
		}
		if c, err := net.DialTimeout("tcp", g.addr, time.Second); err == nil {
			conns = append(conns, c)
		} else {
			failed++
		}
	}
	flood := time.Since(start)
	time.Sleep(500 * time.Millisecond)
	held := g.fds()

	code, _, err := g.get("/healthz")
	healthz := err == nil && code == http.StatusOK
	s, err := open(ctxFor(t, 10*time.Second), g.listenURL("language=en&sample_rate=16000&codec=pcm16"), clientKey)
	ready := err == nil && s.waitReady(10*time.Second)
	evicted := g.metric(`earshot_http_connections_evicted_total{state="idle"}`) +
		g.metric(`earshot_http_connections_evicted_total{state="new"}`)
	t.Logf("measured: %d idle + %d silent connections in %v (%d answered, %d dials failed) against nofile %d: gateway holds %d descriptors (%d before); /healthz ok %v; new session ready %v; evicted %.0f",
		idle, silent, flood.Round(time.Millisecond), answered, failed, nofile, held, before, healthz, ready, evicted)
	check(t, healthz, true, "/healthz answers during the flood")
	check(t, ready, true, "a new session is served during the flood")
	check(t, held <= (nofile-64)/2+64, true, "descriptors bounded by the connection cap")
}
