package retry

import (
	"math"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// BudgetConfig shapes the server-wide retry budget: a token bucket that
// spreads the redials of many sessions over time. Zero fields (and
// negative ones) take the documented defaults.
type BudgetConfig struct {
	// RatePerSec is how many tokens are added per second (default 20;
	// at least MinBudgetRatePerSec).
	RatePerSec float64
	// Burst is the bucket size: how many retries may go at once (default
	// 50; at most MaxBudgetBurst).
	Burst int
}

// Defaults and limits of BudgetConfig. The limits keep the bucket's
// arithmetic in range; values beyond them are clamped.
const (
	DefaultBudgetRatePerSec = 20
	DefaultBudgetBurst      = 50
	MinBudgetRatePerSec     = 0.001
	MaxBudgetBurst          = 1_000_000
)

func (c BudgetConfig) withDefaults() BudgetConfig {
	if c.RatePerSec <= 0 || math.IsNaN(c.RatePerSec) {
		c.RatePerSec = DefaultBudgetRatePerSec
	}
	c.RatePerSec = max(c.RatePerSec, MinBudgetRatePerSec)
	if c.Burst <= 0 {
		c.Burst = DefaultBudgetBurst
	}
	c.Burst = min(c.Burst, MaxBudgetBurst)
	return c
}

// Budget is a token bucket of retries shared by every session of a server.
// It is safe for concurrent use; it starts no goroutine, never blocks and
// never sleeps: time is read with time.Now.
//
// Reservations queue: once the bucket is empty, each Reserve takes a token
// that has not accrued yet and is told how long until it does, so callers
// beyond the bucket are spread out at 1/RatePerSec apart instead of
// retrying together.
type Budget struct {
	mu       sync.Mutex
	interval time.Duration // time for one token to accrue (1/RatePerSec)
	window   time.Duration // Burst tokens' worth of time
	// tat is when the bucket will be full again given every reservation so
	// far: tokens now = Burst - tat.Sub(now)/interval, and tat < now reads
	// as full. Time arithmetic keeps it exact, without float drift.
	tat time.Time

	waits       *metrics.Counter
	waitSeconds *metrics.FloatCounter
}

// NewBudget returns a full bucket. If set is not nil it registers there the
// counter earshot_upstream_retry_budget_waits_total (reservations that had
// to wait) and the float counter
// earshot_upstream_retry_budget_wait_seconds_total (the waits handed out,
// including waits their callers later gave up with Cancel). Call it once
// per server: registering twice in one set panics.
func NewBudget(cfg BudgetConfig, set *metrics.Set) *Budget {
	cfg = cfg.withDefaults()
	interval := max(time.Duration(float64(time.Second)/cfg.RatePerSec), 1)
	b := &Budget{interval: interval, window: time.Duration(cfg.Burst) * interval}
	if set != nil {
		b.waits = set.NewCounter(`earshot_upstream_retry_budget_waits_total`)
		b.waitSeconds = set.NewFloatCounter(`earshot_upstream_retry_budget_wait_seconds_total`)
	}
	return b
}

// Reserve takes one retry token and returns how long the caller must wait
// before using it: 0 if a token was available, otherwise the time until
// its token accrues (the k-th caller beyond an empty bucket waits
// k/RatePerSec). It never blocks; the caller waits with its own timer in a
// select with ctx.Done(), and calls Cancel if it leaves before using the
// token.
func (b *Budget) Reserve() time.Duration {
	now := time.Now()
	b.mu.Lock()
	if b.tat.Before(now) {
		b.tat = now
	}
	b.tat = b.tat.Add(b.interval)
	wait := b.tat.Sub(now) - b.window
	b.mu.Unlock()
	if wait <= 0 {
		return 0
	}
	if b.waits != nil {
		b.waits.Inc()
		b.waitSeconds.Add(wait.Seconds())
	}
	return wait
}

// Cancel gives back a token taken with Reserve and not used (the caller
// left while waiting), so that callers reserving after it wait one token
// less. Waits already handed out are not shortened. The bucket never holds
// more than Burst tokens: a Cancel on a full bucket changes nothing.
func (b *Budget) Cancel() {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tat = b.tat.Add(-b.interval)
	if b.tat.Before(now) {
		b.tat = now
	}
}
