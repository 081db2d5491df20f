package stages_test

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
)

// scrape returns set's Prometheus text.
func scrape(set *metrics.Set) string {
	var buf bytes.Buffer
	set.WritePrometheus(&buf)
	return buf.String()
}

// metricValue reads the value of the series named exactly name (labels
// included) from set; it fails t if there is none.
func metricValue(t *testing.T, set *metrics.Set, name string) float64 {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(scrape(set)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			td.Require(t).CmpNoError(err)
			return f
		}
	}
	t.Fatalf("no series %s", name)
	return 0
}

// tripped returns a breaker that has just opened.
func tripped(t *testing.T, cfg stages.BreakerConfig, set *metrics.Set) *stages.Breaker {
	t.Helper()
	b := stages.NewBreaker("deepgram", cfg, set)
	for b.State() == stages.BreakerClosed {
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

func allow(b *stages.Breaker) allowed {
	ok, wait := b.Allow()
	return allowed{ok, wait}
}

func TestBreakerOpensAfterConsecutiveFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := stages.NewBreaker("deepgram", stages.BreakerConfig{FailureThreshold: 3, OpenMs: 10000}, nil)
		for _, outcome := range []func(){b.Failure, b.Failure, b.Success, b.Failure, b.Failure} {
			td.Cmp(t, allow(b), allowed{OK: true})
			outcome()
		}
		td.Cmp(t, b.State(), stages.BreakerClosed, "a success reset the count")
		b.Failure()
		td.Cmp(t, b.State(), stages.BreakerOpen)
		td.Cmp(t, allow(b), allowed{Wait: 10 * time.Second})
		time.Sleep(4 * time.Second)
		td.Cmp(t, allow(b), allowed{Wait: 6 * time.Second})
	})
}

func TestBreakerDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := stages.NewBreaker("deepgram", stages.BreakerConfig{}, nil)
		for range stages.DefaultBreakerFailureThreshold - 1 {
			b.Failure()
		}
		td.Cmp(t, b.State(), stages.BreakerClosed)
		b.Failure()
		td.Cmp(t, allow(b), allowed{Wait: stages.DefaultBreakerOpenMs * time.Millisecond})
	})
}

func TestBreakerExactlyOneConcurrentProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := tripped(t, stages.BreakerConfig{FailureThreshold: 2, OpenMs: 5000}, nil)
		time.Sleep(5*time.Second - time.Nanosecond)
		td.Cmp(t, allow(b), allowed{Wait: time.Nanosecond})
		time.Sleep(time.Nanosecond)
		td.Cmp(t, b.State(), stages.BreakerHalfOpen)

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
		td.Cmp(t, waits, td.Bag(time.Duration(0), td.Flatten(repeat(49, stages.BreakerProbeWait))))
		td.Cmp(t, b.State(), stages.BreakerHalfOpen)
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
		b := tripped(t, stages.BreakerConfig{FailureThreshold: 1, OpenMs: 1000}, nil)
		time.Sleep(time.Second)
		td.Cmp(t, allow(b), allowed{OK: true})
		b.Success()
		td.Cmp(t, b.State(), stages.BreakerClosed)
		for range 3 {
			td.Cmp(t, allow(b), allowed{OK: true})
		}
	})
}

func TestBreakerProbeFailureReopens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := tripped(t, stages.BreakerConfig{FailureThreshold: 1, OpenMs: 3000}, nil)
		time.Sleep(3 * time.Second)
		td.Cmp(t, allow(b), allowed{OK: true})
		time.Sleep(500 * time.Millisecond) // the probe's dial takes a while
		b.Failure()
		td.Cmp(t, b.State(), stages.BreakerOpen)
		td.Cmp(t, allow(b), allowed{Wait: 3 * time.Second}, "open again for OpenMs from the failure")
		time.Sleep(3 * time.Second)
		td.Cmp(t, allow(b), allowed{OK: true})
	})
}

func TestBreakerAbandonReleasesProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := tripped(t, stages.BreakerConfig{FailureThreshold: 1, OpenMs: 3000}, nil)
		time.Sleep(3 * time.Second)
		td.Cmp(t, allow(b), allowed{OK: true})
		td.Cmp(t, allow(b), allowed{Wait: time.Second})
		b.Abandon()
		td.Cmp(t, b.State(), stages.BreakerHalfOpen, "counts nothing")
		td.Cmp(t, allow(b), allowed{OK: true}, "the next caller probes")
		td.Cmp(t, allow(b), allowed{Wait: time.Second})
	})
}

func TestBreakerAbandonWhileClosedCountsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := stages.NewBreaker("deepgram", stages.BreakerConfig{FailureThreshold: 2}, nil)
		b.Failure()
		b.Abandon()
		td.Cmp(t, b.State(), stages.BreakerClosed)
		b.Failure()
		td.Cmp(t, b.State(), stages.BreakerOpen, "Abandon did not reset the count")
	})
}

func TestBreakerLostProbeIsReplacedAfterOpenMs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := tripped(t, stages.BreakerConfig{FailureThreshold: 1, OpenMs: 2000}, nil)
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
		b := tripped(t, stages.BreakerConfig{FailureThreshold: 1, OpenMs: 2000}, nil)
		time.Sleep(time.Second)
		// Late outcomes of dials allowed before the breaker opened.
		b.Failure()
		b.Success()
		b.Abandon()
		td.Cmp(t, b.State(), stages.BreakerOpen)
		td.Cmp(t, allow(b), allowed{Wait: time.Second}, "the open period is not extended")
	})
}

func TestBreakerShortOpenBoundsProbeWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := tripped(t, stages.BreakerConfig{FailureThreshold: 1, OpenMs: 200}, nil)
		time.Sleep(200 * time.Millisecond)
		td.Cmp(t, allow(b), allowed{OK: true})
		td.Cmp(t, allow(b), allowed{Wait: 200 * time.Millisecond})
	})
}

func TestBreakerMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		set := metrics.NewSet()
		b := stages.NewBreaker("deepgram", stages.BreakerConfig{FailureThreshold: 1, OpenMs: 1000}, set)
		stages.NewBreaker("other", stages.BreakerConfig{}, set) // one per target
		const state = `earshot_upstream_breaker_state{target="deepgram"} `
		const opens = `earshot_upstream_breaker_opens_total{target="deepgram"} `
		td.Cmp(t, scrape(set), td.All(td.Contains(state+"0\n"), td.Contains(opens+"0\n")))

		b.Failure()
		td.Cmp(t, scrape(set), td.All(td.Contains(state+"1\n"), td.Contains(opens+"1\n")))
		time.Sleep(time.Second)
		td.Cmp(t, scrape(set), td.Contains(state+"2\n"), "half-open once the open period is over")
		b.Allow()
		b.Failure()
		td.Cmp(t, scrape(set), td.All(td.Contains(state+"1\n"), td.Contains(opens+"2\n")))
		time.Sleep(time.Second)
		b.Allow()
		b.Success()
		td.Cmp(t, scrape(set), td.All(td.Contains(state+"0\n"), td.Contains(opens+"2\n")))
		td.Cmp(t, scrape(set), td.Re(`(?m)^earshot_upstream_breaker_state\{target="other"\} 0$`))
	})
}

func TestBreakerNilSet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := tripped(t, stages.BreakerConfig{FailureThreshold: 1, OpenMs: 1000}, nil)
		time.Sleep(time.Second)
		td.Cmp(t, allow(b), allowed{OK: true})
		b.Failure()
		td.Cmp(t, b.State(), stages.BreakerOpen)
	})
}

func TestBreakerStateString(t *testing.T) {
	td.Cmp(t, []string{
		stages.BreakerClosed.String(), stages.BreakerOpen.String(), stages.BreakerHalfOpen.String(),
	}, []string{"closed", "open", "half_open"})
}

func BenchmarkBreakerAllow(b *testing.B) {
	br := stages.NewBreaker("deepgram", stages.BreakerConfig{}, metrics.NewSet())
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := br.Allow(); !ok {
			b.Fatal("closed breaker refused")
		}
		br.Success()
	}
}

func BenchmarkBreakerAllowParallel(b *testing.B) {
	br := stages.NewBreaker("deepgram", stages.BreakerConfig{}, metrics.NewSet())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			br.Allow()
			br.Success()
		}
	})
}
