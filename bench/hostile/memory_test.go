package hostile_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/sourcegraph/conc/pool"
)

// openMany opens n sessions at url with key, 8 at a time, and returns
// those that became ready and how many were refused with code.
func openMany(t *testing.T, n int, url, key string, code websocket.StatusCode) (ready []*session, refused int) {
	t.Helper()
	var mu sync.Mutex
	p := pool.New().WithMaxGoroutines(8)
	for range n {
		p.Go(func() {
			s, err := open(ctxFor(t, 30*time.Second), url, key)
			if err != nil {
				return
			}
			ok := s.waitReady(30 * time.Second)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case ok:
				ready = append(ready, s)
			case s.closeCode(5*time.Second) == code:
				refused++
			}
		})
	}
	p.Wait()
	t.Cleanup(func() {
		for _, s := range ready {
			_ = s.conn.CloseNow()
		}
	})
	return ready, refused
}

// TestFloodAt48kHzStaysInTheBudget: sessions at 48 kHz whose upstream
// goes down send a minute of audio each as fast as they can. Their replay
// rings hold audio while they reconnect; together they must stay within
// --replay-budget-bytes (the pace limit closes them once past their
// burst), and what the budget evicted is counted as lost.
func TestFloodAt48kHzStaysInTheBudget(t *testing.T) {
	const budget = 64 << 20
	n := scale(60, 200)
	up := startUpstream(t)
	g := startGateway(t, up, 0, fmt.Sprintf("EARSHOT_REPLAY_BUDGET_BYTES=%d", budget))
	ready, _ := openMany(t, n, g.listenURL("language=en&sample_rate=48000&codec=pcm16"), clientKey, 0)
	if len(ready) != n {
		t.Fatalf("%d of %d sessions ready", len(ready), n)
	}
	up.stop() // every session now holds its audio while it reconnects

	frame := tone(48000, 100, 8000) // 100 ms
	var peakRing, peakRSS atomic.Int64
	stop := make(chan struct{})
	var sampled sync.WaitGroup
	sampled.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(250 * time.Millisecond):
			}
			if v := int64(g.metric("earshot_replay_ring_bytes")); v > peakRing.Load() {
				peakRing.Store(v)
			}
			if v := g.rssBytes(); v > peakRSS.Load() {
				peakRSS.Store(v)
			}
		}
	})
	// 60 s of audio each, as fast as the gateway takes it: past the pace
	// burst (30 s) however slow the machine.
	p := pool.New()
	for _, s := range ready {
		p.Go(func() {
			for range 600 {
				if s.send(frame) != nil {
					return
				}
			}
		})
	}
	p.Wait()
	close(stop)
	sampled.Wait()
	closed1008, codes := 0, map[websocket.StatusCode]int{}
	for _, s := range ready {
		code := s.closeCode(5 * time.Second)
		codes[code]++
		if code == websocket.StatusPolicyViolation {
			closed1008++
		}
	}
	lost := g.metric("earshot_audio_lost_seconds_total")
	evicted := g.metric("earshot_replay_budget_evicted_bytes_total")
	t.Logf("measured: %d sessions at 48 kHz sending 60 s each at once, upstream down: peak ring bytes %.1f MB (budget %d MB), peak RSS %.1f MB, close codes %v, budget evicted %.1f MB, lost %.1f s so far",
		n, float64(peakRing.Load())/1e6, budget>>20, float64(peakRSS.Load())/1e6, codes, evicted/1e6, lost)
	check(t, peakRing.Load() <= budget, true, "ring bytes within the budget")
	check(t, closed1008, n, "every session closed for its pace")
}

// TestOneKeyCannotTakeEverySession: one key opens many sessions; beyond
// --max-sessions-per-key each is refused with 1013 before any upstream
// dial.
func TestOneKeyCannotTakeEverySession(t *testing.T) {
	const perKey = 100
	n := scale(300, 2000)
	up := startUpstream(t)
	g := startGateway(t, up, 0, fmt.Sprintf("EARSHOT_MAX_SESSIONS_PER_KEY=%d", perKey))
	ready, refused := openMany(t, n, g.listenURL("language=en&sample_rate=16000&codec=pcm16"), clientKey, websocket.StatusTryAgainLater)
	t.Logf("measured: one key asked for %d sessions: %d ready, %d refused with 1013, %d upstream streams",
		n, len(ready), refused, up.accepted())
	check(t, len(ready), perKey, "sessions the key got")
	check(t, refused, n-perKey, "refused with 1013")
	check(t, up.accepted(), int64(perKey), "no upstream stream for the refused")
}
