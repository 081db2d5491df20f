package bench_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"earshot/emulate"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/stages/connector"
	"earshot/stages/retry"
)

const abortSessions = 500

// abortMode is how the clients leave.
type abortMode struct {
	name string
	// oneByOne: close one client, wait for its session to end, then the
	// next; otherwise every client is closed at once.
	oneByOne bool
	// handshake: a close frame (1000) and the closing handshake, run in
	// the background; otherwise the TCP connection is closed at once
	// (CloseNow, as a client that vanishes).
	handshake bool
	// noBreaker: the breaker never opens, so that every session sits in
	// its own backoff wait (or in a retry-budget wait, or a dial) rather
	// than in the breaker's open period.
	noBreaker bool
}

var abortModes = []abortMode{
	{name: "close=now", oneByOne: true},
	{name: "close=frame", oneByOne: true, handshake: true},
	{name: "close=now,breaker=off", oneByOne: true, noBreaker: true},
	{name: "close=now-all-at-once"},
}

// BenchmarkAbortInBackoff measures how fast a session ends when its client
// leaves while the upstream is down and the session sits in a long
// backoff wait. 500 sessions stream half a second of audio to a gateway
// whose upstream refuses every upgrade (503); the connector retries with
// a 10 s base backoff and 2^20 attempts, behind the default breaker and
// retry budget, so every session is waiting (on a backoff or breaker
// timer) when its client leaves. With breaker=off the breaker never opens:
// every session dials once, then waits its own jittered backoff (0–10 s)
// or a retry-budget token, and a few are dialing again when they are
// closed.
//
// One by one (close=now, close=frame): client i is closed and its
// session's end (pipeline.Deps.OnSessionEnd, taken after the session's
// last goroutine returned) is awaited before client i+1 is closed, so each
// sample is exactly one session's abort latency while the others are still
// in backoff. All at once: every client is closed in a loop and each
// session's end is timed from the first close (an upper bound of each
// session's latency).
//
// It also checks that runtime.NumGoroutine returns to its value before
// the sessions were opened. One iteration takes a few seconds.
func BenchmarkAbortInBackoff(b *testing.B) {
	for _, m := range abortModes {
		b.Run(m.name, func(b *testing.B) {
			var took []time.Duration
			for range b.N {
				took = append(took, runAbort(b, m)...)
			}
			l := summarise(took)
			b.Logf("%s: %s", m.name, l)
			b.ReportMetric(msOf(l.p50), "p50-ms")
			b.ReportMetric(msOf(l.p99), "p99-ms")
			b.ReportMetric(msOf(l.pmax), "max-ms")
		})
	}
}

func runAbort(b *testing.B, m abortMode) []time.Duration {
	ended := make(chan pipeline.SessionSummary, 2*abortSessions)
	emu, dgURL := testrig.StartEmulator(b, emulate.Config{
		Faults:     emulate.Faults{RefuseFirst: 1 << 30, RefuseStatus: 503},
		Recognizer: func(int) (emulate.Recognizer, error) { return silentRecognizer{}, nil },
	})
	cfg := pipeline.Config{
		Connector: connector.Config{
			Backoff: retry.BackoffConfig{BaseMs: 10000, CapMs: 60000, Attempts: 1 << 20},
		},
	}
	if m.noBreaker {
		cfg.Breaker.FailureThreshold = 1 << 30
	}
	srv, url := testrig.StartGatewayWith(b, dgURL, cfg,
		pipeline.Deps{OnSessionEnd: func(s pipeline.SessionSummary) { ended <- s }})

	b.StopTimer()
	before := runtime.NumGoroutine()
	conns := dialSessions(b, url, abortSessions)
	frame := make([]byte, frameBytes)
	for _, c := range conns {
		for range 5 {
			if err := c.Write(context.Background(), websocket.MessageBinary, frame); err != nil {
				b.Fatal(err)
			}
		}
	}
	if !waitFor(10*time.Second, func() bool { return srv.Sessions() == abortSessions }) {
		b.Fatalf("gateway has %d sessions, want %d", srv.Sessions(), abortSessions)
	}
	// Every session's first dial fails within milliseconds; then it waits.
	time.Sleep(time.Second)
	if n := len(ended); n > 0 {
		b.Fatalf("%d sessions ended before their client left", n)
	}
	dials := emu.Stats().UpgradeAttempts
	running := runtime.NumGoroutine()
	b.Logf("%d upstream dials (all refused) in the %d sessions' first second", dials, abortSessions)
	b.StartTimer()

	var closers sync.WaitGroup
	leave := func(c *websocket.Conn) {
		if m.handshake {
			closers.Go(func() { _ = c.Close(websocket.StatusNormalClosure, "") })
			return
		}
		c.CloseNow()
	}
	next := func() (pipeline.SessionSummary, bool) {
		select {
		case s := <-ended:
			return s, true
		case <-time.After(5 * time.Second):
			return pipeline.SessionSummary{}, false
		}
	}
	took := make([]time.Duration, 0, abortSessions)
	if m.oneByOne {
		for i, c := range conns {
			left := time.Now()
			leave(c)
			s, ok := next()
			if !ok {
				b.Fatalf("session %d did not end within 5 s of its client leaving", i)
			}
			took = append(took, s.Ended.Sub(left))
		}
	} else {
		left := time.Now()
		for _, c := range conns {
			leave(c)
		}
		b.Logf("closing the %d clients took %.1f ms", len(conns), msOf(time.Since(left)))
		for i := range conns {
			s, ok := next()
			if !ok {
				b.Fatalf("%d of %d sessions did not end within 5 s", abortSessions-i, abortSessions)
			}
			took = append(took, s.Ended.Sub(left))
		}
	}
	b.StopTimer()
	closers.Wait()

	if n := emu.Stats().UpgradeAttempts - dials; n > 0 {
		b.Logf("%d upstream dials happened while the clients were leaving", n)
	}
	settled := waitFor(5*time.Second, func() bool { return runtime.NumGoroutine() <= before })
	left := runtime.NumGoroutine() - before
	b.Logf("goroutines: %d before the sessions, %d with %d sessions in backoff, %d after (settled=%v)",
		before, running, abortSessions, runtime.NumGoroutine(), settled)
	if !settled {
		buf := make([]byte, 1<<20)
		b.Errorf("%d goroutines more than before the sessions, 5 s after the last ended:\n%s",
			left, buf[:runtime.Stack(buf, true)])
	}
	b.ReportMetric(float64(max(left, 0)), "goroutines-left")
	b.StartTimer()
	return took
}
