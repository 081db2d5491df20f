package hostile_test

import (
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"earshot/internal/rawws"
)

// TestClientThatStopsReadingIsClosed: a client with a tiny receive
// buffer sends audio that makes transcripts, never reads them, and goes
// quiet. Once the gateway's writes to it stall, it must close the
// connection within its write timeout (here 2 s) rather than keep the
// session, and its upstream stream, open for as long as the client keeps
// its socket (the inactivity rule must not wait on the stalled write).
func TestClientThatStopsReadingIsClosed(t *testing.T) {
	limit := time.Duration(scale(40, 180)) * time.Second
	up := startUpstream(t)
	g := startGateway(t, up, 0, "EARSHOT_WRITE_TIMEOUT_MS=2000", "EARSHOT_MAX_PACE=-1")
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048)
		})
	}}
	c := g.rawListen(t, &d, "language=en&sample_rate=8000&codec=pcm16")
	// 24,000 words (about 6 MB of transcripts, more than the gateway's
	// socket can buffer) as fast as they go, then nothing: never reading,
	// the client leaves the transcripts in the socket until the gateway's
	// writes stall.
	w := chatter(8000, 8) // 4 s, 64,000 bytes: within the read limit
	// On a busy machine the transcripts can back up while the client is
	// still sending: then the gateway cuts it off mid-send.
	midSend := false
	for range 1500 {
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := c.WriteFrame(rawws.OpBinary, w, true); err != nil {
			midSend = true
			break
		}
	}
	start := time.Now()
	var ended time.Duration
	if waitFor(limit, func() bool { return g.sessionsEnded() > 0 }) {
		ended = time.Since(start)
	}
	timeouts := g.metric("earshot_client_write_timeouts_total")
	when := "went quiet"
	if midSend {
		when = "was cut off while still sending"
	}
	code := ""
	if ended == 0 {
		t.Logf("measured: a client that never reads sent up to 24,000 words and %s; its session was still open %v later", when, limit)
	} else {
		code = g.endedLines()[0]["close_code"]
		t.Logf("measured: a client that never reads sent up to 24,000 words and %s; its session ended %v later (write timeouts %.0f, close code %s)",
			when, ended.Round(time.Millisecond), timeouts, code)
	}
	if !check(t, ended > 0, true, "the session ended") {
		t.Logf("gateway log:\n%s", strings.Join(g.lines(""), "\n"))
	}
	check(t, timeouts, 1.0, "counted as a write timeout")
	check(t, code, "1013", "recorded as the client's fault")
}
