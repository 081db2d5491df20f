package connector_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/retry"
	"earshot/stages/stagestest"
)

// TestBudgetCapsSimultaneousRedials: 40 sessions lose their upstream at
// the same instant; with a shared budget of burst 5 and 10 per second, the
// redials are spread instead of arriving at once.
func TestBudgetCapsSimultaneousRedials(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const sessions = 40
		budget := retry.NewBudget(retry.BudgetConfig{RatePerSec: 10, Burst: 5}, nil)
		m := connector.NewMetrics(metrics.NewSet())
		p := stagestest.NewProvider()
		var (
			mu      sync.Mutex
			redials []time.Duration
			streams []*stagestest.Stream
			ins     []chan stages.Audio
		)
		var dropAt time.Time
		go func() { // the upstream: accepts every dial, noting redial times
			for d := range p.Dials {
				s := stagestest.NewStream(64)
				mu.Lock()
				if !dropAt.IsZero() {
					redials = append(redials, time.Since(dropAt))
				} else {
					streams = append(streams, s)
				}
				mu.Unlock()
				d.Accept(s)
			}
		}()
		var wg sync.WaitGroup
		for range sessions {
			in := make(chan stages.Audio)
			out := make(chan stages.Update, 16)
			ins = append(ins, in)
			c := connector.New(connector.Config{}, stages.StreamConfig{SampleRateHz: rate},
				connector.Deps{Provider: p, Metrics: m, Budget: budget, Rand: stagestest.Half})
			wg.Go(func() { _ = c.Run(t.Context(), in, out) })
			go func() {
				for range out {
				}
			}()
		}
		synctest.Wait()
		time.Sleep(10 * time.Second) // healthy streams
		mu.Lock()
		dropAt = time.Now()
		for _, s := range streams {
			s.End(&stages.UpstreamError{CloseCode: 1011})
		}
		mu.Unlock()
		time.Sleep(10 * time.Second)
		mu.Lock()
		got := append([]time.Duration(nil), redials...)
		mu.Unlock()
		td.Cmp(t, len(got), sessions, "every session reconnected")
		at := func(d time.Duration) (n int) {
			for _, r := range got {
				if r <= d {
					n++
				}
			}
			return n
		}
		td.Cmp(t, at(0), 5, "only the burst redials at once")
		td.Cmp(t, at(time.Second), td.Lte(5+10), "then at the budget's rate")
		td.Cmp(t, at(3500*time.Millisecond), sessions, "all back once the budget allows")
		for _, in := range ins {
			close(in)
		}
		go func() {
			for _, s := range streams {
				_ = s.Close()
			}
		}()
		wg.Wait()
		close(p.Dials)
	})
}

func TestOpenBreakerRefusesWithoutDialing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker("fake", retry.BreakerConfig{FailureThreshold: 2, FirstOpenMs: 30_000, OpenMs: 30_000}, nil)
		b.Allow()
		b.Failure()
		b.Allow()
		b.Failure()
		td.Cmp(t, b.State(), retry.BreakerOpen)
		dials := 0
		start := time.Now()
		s, err := retry.Connect(t.Context(), func(context.Context) (stages.Stream, error) {
			dials++
			return stagestest.NewStream(1), nil
		}, retry.Options{Breaker: b, Rand: stagestest.Half, Backoff: retry.BackoffConfig{Attempts: 2}})
		td.CmpNoError(t, err)
		td.CmpNotNil(t, s)
		td.Cmp(t, dials, 1, "the refused attempt made no dial")
		td.Cmp(t, time.Since(start), td.Between(30*time.Second, 31*time.Second), "waited for the probe")
		td.Cmp(t, b.State(), retry.BreakerClosed, "the probe's success closed it")

		// An open breaker fails a one-attempt connect without dialing.
		b.Allow()
		b.Failure()
		b.Allow()
		b.Failure()
		_, err = retry.Connect(t.Context(), func(context.Context) (stages.Stream, error) {
			dials++
			return nil, nil
		}, retry.Options{Breaker: b, Backoff: retry.BackoffConfig{Attempts: 1}})
		td.CmpTrue(t, errors.Is(err, retry.ErrBreakerOpen))
		td.Cmp(t, stages.Classify(err), stages.ClassRetryable)
		td.Cmp(t, dials, 1)
	})
}
