package hostile_test

import (
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/conc/pool"
)

// TestUpstreamRestartCostsSeconds: sessions talk at real time (a word a
// second) while the upstream goes away for 5 s and comes back on the same
// port. Transcripts must resume within a few seconds of its return (the
// breaker must not hold dials for its longest open period), and no audio
// is lost: the replay ring holds the outage.
func TestUpstreamRestartCostsSeconds(t *testing.T) {
	n := scale(10, 50)
	total := time.Duration(scale(30, 60)) * time.Second
	const downAt, downFor = 5 * time.Second, 5 * time.Second
	up := startUpstream(t)
	g := startGateway(t, up, 0)
	ready, _ := openMany(t, n, g.listenURL("language=en&sample_rate=16000&codec=pcm16"), clientKey, 0)
	if len(ready) != n {
		t.Fatalf("%d of %d sessions ready", len(ready), n)
	}
	start := time.Now()
	var outage sync.WaitGroup
	outage.Go(func() {
		time.Sleep(downAt)
		up.stop()
		time.Sleep(downFor)
		up.start()
	})
	w := word(16000)
	p := pool.New()
	for _, s := range ready {
		p.Go(func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for i := 0; time.Since(start) < total; i++ {
				off := (i % 10) * 3200
				if s.send(w[off:off+3200]) != nil {
					return
				}
				<-tick.C
			}
		})
	}
	p.Wait()
	outage.Wait()
	back := start.Add(downAt + downFor)
	// The wait after the upstream came back until each session's next
	// transcript.
	var worst, usual time.Duration // usual: the longest gap before the outage
	missing := 0
	for _, s := range ready {
		segs := s.segmentsAfter(start)
		for i := 1; i < len(segs) && segs[i].Before(start.Add(downAt)); i++ {
			usual = max(usual, segs[i].Sub(segs[i-1]))
		}
		after := s.segmentsAfter(back)
		if len(after) == 0 {
			missing++
			continue
		}
		worst = max(worst, after[0].Sub(back))
	}
	for _, s := range ready {
		_ = s.conn.Close(1000, "")
	}
	waitFor(15*time.Second, func() bool { return g.sessionsEnded() == n })
	var lost float64
	for _, e := range g.endedLines() {
		lost += e.float("lost_seconds")
	}
	if missing > 0 {
		t.Logf("measured: %d sessions, upstream down %v from %v: %d had no transcript in the %v after it came back; lost %.1f s of audio in all",
			n, downFor, downAt, missing, total-downAt-downFor, lost)
	} else {
		t.Logf("measured: %d sessions, upstream down %v from %v: transcripts resumed at most %v after it came back (%v without transcripts; before the outage the longest gap was %v); lost %.1f s of audio in all",
			n, downFor, downAt, worst.Round(10*time.Millisecond), (downFor + worst).Round(10*time.Millisecond), usual.Round(10*time.Millisecond), lost)
	}
	check(t, missing, 0, "every session has transcripts again")
	// The breaker's probes come 1, 2, 4 s apart (its open period doubles
	// from 1 s), so the one that finds the upstream back comes up to 2 s
	// after it; the sessions then resume within 0.5 s of it, spread, and
	// their next words take a second or so (a second more for a busy
	// machine).
	check(t, worst <= 6*time.Second, true, "within a few seconds of the upstream's return")
	check(t, lost, 0.0, "no audio lost")
}
