package retry_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	"earshot/stages/retry"
	"earshot/stages/stagestest"
)

// tripped returns a breaker that has just opened.
func tripped(t *testing.T, cfg retry.BreakerConfig, set *metrics.Set) *retry.Breaker {
	t.Helper()
	b := retry.NewBreaker("deepgram", cfg, set)
	for b.State() == retry.BreakerClosed {
		ok, _ := b.Allow()
		td.Require(t).True(ok)
		b.Failure()
	}
	return b
}

// allowed is Allow as a value, for td.Cmp.
type allowed struct {
	OK   bool
	Wait time.Duration
}

func allow(b *retry.Breaker) allowed {
	ok, wait := b.Allow()
	return allowed{ok, wait}
}

func TestBreakerOpensAfterConsecutiveFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker("deepgram", retry.BreakerConfig{FailureThreshold: 3, FirstOpenMs: 10000, OpenMs: 10000}, nil)
		for _, outcome := range []func(){b.Failure, b.Failure, b.Success, b.Failure, b.Failure} {
			td.Cmp(t, allow(b), allowed{OK: true})
			outcome()
		}
		td.Cmp(t, b.State(), retry.BreakerClosed, "a success reset the count")
		b.Failure()
		td.Cmp(t, b.State(), retry.BreakerOpen)
		td.Cmp(t, allow(b), allowed{Wait: 10 * time.Second})
		time.Sleep(4 * time.Second)
		td.Cmp(t, allow(b), allowed{Wait: 6 * time.Second})
	})
}

func TestBreakerDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker("deepgram", retry.BreakerConfig{}, nil)
		for range retry.DefaultBreakerFailureThreshold - 1 {
			b.Failure()
		}
		td.Cmp(t, b.State(), retry.BreakerClosed)
		b.Failure()
		td.Cmp(t, allow(b), allowed{Wait: retry.DefaultBreakerFirstOpenMs * time.Millisecond})
	})
}

// TestBreakerOpenPeriodGrowsWithFailedProbes: open 1 s first; each failed
// probe doubles the next open period up to OpenMs; a probe that succeeds
// starts over at 1 s. A short upstream restart is noticed within about
// its own length, a long outage is probed every OpenMs.
func TestBreakerOpenPeriodGrowsWithFailedProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker("deepgram", retry.BreakerConfig{FailureThreshold: 1, FirstOpenMs: 1000, OpenMs: 5000}, nil)
		td.Cmp(t, allow(b), allowed{OK: true})
		b.Failure()
		var periods []time.Duration
		for range 5 {
			_, wait := b.Allow()
			periods = append(periods, wait)
			time.Sleep(wait)
			td.Cmp(t, allow(b), allowed{OK: true}, "the probe")
			b.Failure()
		}
		td.Cmp(t, periods, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second})
		_, wait := b.Allow()
		time.Sleep(wait)
		td.Cmp(t, allow(b), allowed{OK: true})
		b.Success()
		td.Cmp(t, b.State(), retry.BreakerClosed)
		td.Cmp(t, allow(b), allowed{OK: true})
		b.Failure()
		td.Cmp(t, allow(b), allowed{Wait: time.Second}, "after a success the period starts over")
	})
}

func TestBreakerExactlyOneConcurrentProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := tripped(t, retry.BreakerConfig{FailureThreshold: 2, FirstOpenMs: 5000, OpenMs: 5000}, nil)
		time.Sleep(5*time.Second - time.Nanosecond)
		td.Cmp(t, allow(b), allowed{Wait: time.Nanosecond})
		time.Sleep(time.Nanosecond)
		td.Cmp(t, b.State(), retry.BreakerHalfOpen)

		var oks atomic.Int64
		waits := make([]time.Duration, 50)
		var wg sync.WaitGroup
		for i := range waits {
			wg.Go(func() {
				ok, wait := b.Allow()
				if ok {
					oks.Add(1)
				}
				waits[i] = wait
			})
		}
		wg.Wait()
		td.Cmp(t, oks.Load(), int64(1))
		td.Cmp(t, waits, td.Bag(time.Duration(0), td.Flatten(repeat(49, retry.BreakerProbeWait))))
		td.Cmp(t, b.State(), retry.BreakerHalfOpen)
	})
}

func repeat[T any](n int, v T) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func TestBreakerProbeSuccessCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := tripped(t, retry.BreakerConfig{FailureThreshold: 1, FirstOpenMs: 1000, OpenMs: 1000}, nil)
		time.Sleep(time.Second)
		td.Cmp(t, allow(b), allowed{OK: true})
		b.Success()
		td.Cmp(t, b.State(), retry.BreakerClosed)
		for range 3 {
			td.Cmp(t, allow(b), allowed{OK: true})
		}
	})
}

func TestBreakerProbeFailureReopens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := tripped(t, retry.BreakerConfig{FailureThreshold: 1, FirstOpenMs: 3000, OpenMs: 3000}, nil)
		time.Sleep(3 * time.Second)
		td.Cmp(t, allow(b), allowed{OK: true})
		time.Sleep(500 * time.Millisecond) // the probe's dial takes a while
		b.Failure()
		td.Cmp(t, b.State(), retry.BreakerOpen)
		td.Cmp(t, allow(b), allowed{Wait: 3 * time.Second}, "open again for OpenMs from the failure")
		time.Sleep(3 * time.Second)
		td.Cmp(t, allow(b), allowed{OK: true})
	})
}

func TestBreakerAbandonReleasesProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := tripped(t, retry.BreakerConfig{FailureThreshold: 1, FirstOpenMs: 3000, OpenMs: 3000}, nil)
		time.Sleep(3 * time.Second)
		td.Cmp(t, allow(b), allowed{OK: true})
		td.Cmp(t, allow(b), allowed{Wait: time.Second})
		b.Abandon()
		td.Cmp(t, b.State(), retry.BreakerHalfOpen, "counts nothing")
		td.Cmp(t, allow(b), allowed{OK: true}, "the next caller probes")
		td.Cmp(t, allow(b), allowed{Wait: time.Second})
	})
}

func TestBreakerAbandonWhileClosedCountsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker("deepgram", retry.BreakerConfig{FailureThreshold: 2}, nil)
		b.Failure()
		b.Abandon()
		td.Cmp(t, b.State(), retry.BreakerClosed)
		b.Failure()
		td.Cmp(t, b.State(), retry.BreakerOpen, "Abandon did not reset the count")
	})
}

func TestBreakerLostProbeIsReplacedAfterOpenMs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := tripped(t, retry.BreakerConfig{FailureThreshold: 1, FirstOpenMs: 2000, OpenMs: 2000}, nil)
		time.Sleep(2 * time.Second)
		td.Cmp(t, allow(b), allowed{OK: true}) // never reports
		time.Sleep(2*time.Second - time.Nanosecond)
		td.Cmp(t, allow(b), allowed{Wait: time.Second})
		time.Sleep(time.Nanosecond)
		td.Cmp(t, allow(b), allowed{OK: true})
	})
}

func TestBreakerIgnoresOutcomesWhileOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := tripped(t, retry.BreakerConfig{FailureThreshold: 1, FirstOpenMs: 2000, OpenMs: 2000}, nil)
		time.Sleep(time.Second)
		// Late outcomes of dials allowed before the breaker opened.
		b.Failure()
		b.Success()
		b.Abandon()
		td.Cmp(t, b.State(), retry.BreakerOpen)
		td.Cmp(t, allow(b), allowed{Wait: time.Second}, "the open period is not extended")
	})
}

func TestBreakerShortOpenBoundsProbeWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := tripped(t, retry.BreakerConfig{FailureThreshold: 1, FirstOpenMs: 200, OpenMs: 200}, nil)
		time.Sleep(200 * time.Millisecond)
		td.Cmp(t, allow(b), allowed{OK: true})
		td.Cmp(t, allow(b), allowed{Wait: 200 * time.Millisecond})
	})
}

func TestBreakerMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		set := metrics.NewSet()
		b := retry.NewBreaker("deepgram", retry.BreakerConfig{FailureThreshold: 1, FirstOpenMs: 1000, OpenMs: 1000}, set)
		retry.NewBreaker("other", retry.BreakerConfig{}, set) // one per target
		const state = `earshot_upstream_breaker_state{target="deepgram"} `
		const opens = `earshot_upstream_breaker_opens_total{target="deepgram"} `
		td.Cmp(t, stagestest.Scrape(set), td.All(td.Contains(state+"0\n"), td.Contains(opens+"0\n")))

		b.Failure()
		td.Cmp(t, stagestest.Scrape(set), td.All(td.Contains(state+"1\n"), td.Contains(opens+"1\n")))
		time.Sleep(time.Second)
		td.Cmp(t, stagestest.Scrape(set), td.Contains(state+"2\n"), "half-open once the open period is over")
		b.Allow()
		b.Failure()
		td.Cmp(t, stagestest.Scrape(set), td.All(td.Contains(state+"1\n"), td.Contains(opens+"2\n")))
		time.Sleep(time.Second)
		b.Allow()
		b.Success()
		td.Cmp(t, stagestest.Scrape(set), td.All(td.Contains(state+"0\n"), td.Contains(opens+"2\n")))
		td.Cmp(t, stagestest.Scrape(set), td.Re(`(?m)^earshot_upstream_breaker_state\{target="other"\} 0$`))
	})
}

func TestBreakerNilSet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := tripped(t, retry.BreakerConfig{FailureThreshold: 1, FirstOpenMs: 1000, OpenMs: 1000}, nil)
		time.Sleep(time.Second)
		td.Cmp(t, allow(b), allowed{OK: true})
		b.Failure()
		td.Cmp(t, b.State(), retry.BreakerOpen)
	})
}

func TestBreakerStateString(t *testing.T) {
	td.Cmp(t, []string{
		retry.BreakerClosed.String(), retry.BreakerOpen.String(), retry.BreakerHalfOpen.String(),
	}, []string{"closed", "open", "half_open"})
}

func BenchmarkBreakerAllow(b *testing.B) {
	br := retry.NewBreaker("deepgram", retry.BreakerConfig{}, metrics.NewSet())
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := br.Allow(); !ok {
			b.Fatal("closed breaker refused")
		}
		br.Success()
	}
}

func BenchmarkBreakerAllowParallel(b *testing.B) {
	br := retry.NewBreaker("deepgram", retry.BreakerConfig{}, metrics.NewSet())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			br.Allow()
			br.Success()
		}
	})
}

// TestBreakerWindow: with WindowMs, failures spread wider than the window
// never open the breaker; the threshold within it does.
func TestBreakerWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker("w", retry.BreakerConfig{FailureThreshold: 3, WindowMs: 1000, OpenMs: 5000, FirstOpenMs: 5000}, nil)
		for range 6 { // two failures per window, never three
			ok, _ := b.Allow()
			td.CmpTrue(t, ok)
			b.Failure()
			time.Sleep(600 * time.Millisecond)
		}
		td.Cmp(t, b.State(), retry.BreakerClosed)
		for range 3 {
			ok, _ := b.Allow()
			td.CmpTrue(t, ok)
			b.Failure()
			time.Sleep(100 * time.Millisecond)
		}
		td.Cmp(t, b.State(), retry.BreakerOpen)
	})
}
