package retry_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	"earshot/stages/retry"
	"earshot/stages/stagestest"
)

// reserve calls b.Reserve n times and returns the waits.
func reserve(b *retry.Budget, n int) []time.Duration {
	waits := make([]time.Duration, n)
	for i := range waits {
		waits[i] = b.Reserve()
	}
	return waits
}

func ms(v ...int) []time.Duration {
	d := make([]time.Duration, len(v))
	for i, x := range v {
		d[i] = time.Duration(x) * time.Millisecond
	}
	return d
}

func TestBudgetBurstThenQueuedWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBudget(retry.BudgetConfig{RatePerSec: 10, Burst: 5}, nil)
		td.Cmp(t, reserve(b, 9), ms(0, 0, 0, 0, 0, 100, 200, 300, 400))
	})
}

func TestBudgetDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBudget(retry.BudgetConfig{}, nil)
		td.Cmp(t, reserve(b, retry.DefaultBudgetBurst), repeat(retry.DefaultBudgetBurst, time.Duration(0)))
		td.Cmp(t, reserve(b, 2), ms(50, 100), "1/20 s apart")
	})
}

func TestBudgetRefillsOverTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBudget(retry.BudgetConfig{RatePerSec: 10, Burst: 5}, nil)
		reserve(b, 5)
		time.Sleep(300 * time.Millisecond)
		td.Cmp(t, reserve(b, 4), ms(0, 0, 0, 100), "3 tokens accrued")

		time.Sleep(time.Hour)
		td.Cmp(t, reserve(b, 6), ms(0, 0, 0, 0, 0, 100), "never more than Burst")
	})
}

func TestBudgetQueueDrainsOverTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBudget(retry.BudgetConfig{RatePerSec: 10, Burst: 5}, nil)
		td.Cmp(t, reserve(b, 8), ms(0, 0, 0, 0, 0, 100, 200, 300))
		time.Sleep(300 * time.Millisecond) // the three queued tokens accrued and were used
		td.Cmp(t, reserve(b, 2), ms(100, 200))
	})
}

func TestBudgetCancelGivesBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBudget(retry.BudgetConfig{RatePerSec: 10, Burst: 5}, nil)
		td.Cmp(t, reserve(b, 7), ms(0, 0, 0, 0, 0, 100, 200))
		b.Cancel() // the caller told 200 ms left
		td.Cmp(t, b.Reserve(), 200*time.Millisecond)
		b.Cancel()
		b.Cancel()
		td.Cmp(t, b.Reserve(), 100*time.Millisecond)
	})
}

func TestBudgetCancelNeverExceedsBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBudget(retry.BudgetConfig{RatePerSec: 10, Burst: 5}, nil)
		b.Reserve()
		for range 10 {
			b.Cancel()
		}
		td.Cmp(t, reserve(b, 6), ms(0, 0, 0, 0, 0, 100))

		time.Sleep(time.Hour)
		b.Cancel()
		td.Cmp(t, reserve(b, 6), ms(0, 0, 0, 0, 0, 100))
	})
}

func TestBudgetConcurrentReservesFollowBucketMath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n, burst, rate = 500, 50, 20
		b := retry.NewBudget(retry.BudgetConfig{RatePerSec: rate, Burst: burst}, nil)
		waits := make([]time.Duration, n)
		var wg sync.WaitGroup
		for i := range waits {
			wg.Go(func() { waits[i] = b.Reserve() })
		}
		wg.Wait()

		// Time stands still in the bubble: whatever the order, the k-th
		// caller beyond the bucket waits k/rate.
		want := make([]time.Duration, n)
		var sum time.Duration
		for k := burst + 1; k <= n; k++ {
			want[k-1] = time.Duration(k-burst) * time.Second / rate
			sum += want[k-1]
		}
		td.Cmp(t, waits, td.Bag(td.Flatten(want)))
		var got time.Duration
		for _, w := range waits {
			got += w
		}
		td.Cmp(t, got, sum)
	})
}

func TestBudgetConcurrentReserveCancelRestoresBucket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBudget(retry.BudgetConfig{RatePerSec: 10, Burst: 5}, nil)
		var wg sync.WaitGroup
		for range 200 {
			wg.Go(func() {
				b.Reserve()
				b.Cancel()
			})
		}
		wg.Wait()
		td.Cmp(t, reserve(b, 6), ms(0, 0, 0, 0, 0, 100))
	})
}

func TestBudgetMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		set := metrics.NewSet()
		b := retry.NewBudget(retry.BudgetConfig{RatePerSec: 10, Burst: 2}, set)
		const waits = `earshot_upstream_retry_budget_waits_total`
		const seconds = `earshot_upstream_retry_budget_wait_seconds_total`
		td.Cmp(t, stagestest.Scrape(set), td.All(td.Contains(waits+" 0\n"), td.Contains(seconds+" 0\n")))

		reserve(b, 5) // waits 0, 0, 0.1, 0.2, 0.3
		td.Cmp(t, stagestest.Scrape(set), td.Contains(waits+" 3\n"))
		td.Cmp(t, stagestest.MetricValue(t, set, seconds), td.N(0.6, 1e-9))
	})
}

func TestBudgetNilSet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBudget(retry.BudgetConfig{RatePerSec: 1, Burst: 1}, nil)
		td.Cmp(t, reserve(b, 2), ms(0, 1000))
		b.Cancel()
	})
}

func BenchmarkBudgetReserve(b *testing.B) {
	bu := retry.NewBudget(retry.BudgetConfig{}, metrics.NewSet())
	b.ReportAllocs()
	for b.Loop() {
		bu.Reserve()
	}
}

func BenchmarkBudgetReserveParallel(b *testing.B) {
	bu := retry.NewBudget(retry.BudgetConfig{}, metrics.NewSet())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bu.Reserve()
			bu.Cancel()
		}
	})
}
