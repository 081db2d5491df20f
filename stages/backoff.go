package stages

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// BackoffConfig shapes the connector's retries: full-jitter exponential
// backoff. Zero fields take the documented defaults.
type BackoffConfig struct {
	// BaseMs is the first delay's upper bound in milliseconds (default
	// 1000).
	BaseMs int
	// CapMs caps every delay's upper bound in milliseconds (default 32000).
	CapMs int
	// Attempts is how many dials one connect makes before it gives up
	// (default 3). A negative value means zero attempts: Connect fails at
	// once without dialing.
	Attempts int
}

// Defaults of BackoffConfig.
const (
	DefaultBackoffBaseMs   = 1000
	DefaultBackoffCapMs    = 32000
	DefaultBackoffAttempts = 3
)

func (c BackoffConfig) withDefaults() BackoffConfig {
	if c.BaseMs <= 0 {
		c.BaseMs = DefaultBackoffBaseMs
	}
	if c.CapMs <= 0 {
		c.CapMs = DefaultBackoffCapMs
	}
	if c.CapMs < c.BaseMs {
		c.CapMs = c.BaseMs
	}
	switch {
	case c.Attempts == 0:
		c.Attempts = DefaultBackoffAttempts
	case c.Attempts < 0:
		c.Attempts = 0
	}
	return c
}

// Delay returns the wait before retry number retry (0 for the wait after
// the first failed dial): a uniform draw, given by u in [0, 1), from
// [0, min(cap, base·2^retry)).
func (c BackoffConfig) Delay(retry int, u float64) time.Duration {
	c = c.withDefaults()
	upper := time.Duration(c.CapMs) * time.Millisecond
	if retry < 30 {
		if d := time.Duration(c.BaseMs) * time.Millisecond << retry; d < upper {
			upper = d
		}
	}
	return time.Duration(u * float64(upper))
}

// DialFunc opens one upstream stream.
type DialFunc func(ctx context.Context) (Stream, error)

// ConnectOptions shape one Connect call.
type ConnectOptions struct {
	// Backoff: delays and the number of attempts.
	Backoff BackoffConfig
	// Rand returns uniform draws in [0, 1) for jitter; nil means
	// math/rand/v2's Float64.
	Rand func() float64
	// OnRetry, if not nil, is called before each wait with the failed
	// attempt's error and the chosen delay.
	OnRetry func(err error, wait time.Duration)
	// Breaker, if not nil, is the upstream target's process-wide circuit
	// breaker: an attempt it refuses fails with ErrBreakerOpen without
	// dialing, and waits at least until it may probe again.
	Breaker *Breaker
	// Budget, if not nil, is the process-wide retry budget: every retry
	// (and the first attempt when FirstIsRetry) first takes a token,
	// waiting as long as the budget says.
	Budget *Budget
	// FirstIsRetry marks a reconnect: its first dial is a retry too.
	FirstIsRetry bool
}

// Connect dials until a dial succeeds, a permanent error comes, the
// attempts run out, or ctx is done.
//
// Every wait is a time.Timer in a select with ctx.Done(), so cancelling ctx
// (the client left) interrupts a dial in flight or a wait at once. Outcomes:
//   - a Stream and nil: connected;
//   - nil and an error wrapping ErrAborted: ctx was done (before the first
//     dial no dial is made); there is no socket and nothing to report;
//   - nil and the dial's error: permanent, not retried;
//   - nil and the last attempt's error: attempts exhausted.
//
// A Retry-After from the upstream lengthens the wait to at least that long.
func Connect(ctx context.Context, dial DialFunc, o ConnectOptions) (Stream, error) {
	cfg := o.Backoff.withDefaults()
	rnd := o.Rand
	if rnd == nil {
		rnd = rand.Float64
	}
	if cfg.Attempts == 0 {
		return nil, fmt.Errorf("%w: connect configured with zero attempts", ErrPermanent)
	}
	var last error
	for attempt := range cfg.Attempts {
		if ctx.Err() != nil {
			return nil, aborted(ctx)
		}
		token := false
		if attempt > 0 || o.FirstIsRetry {
			var err error
			if token, err = o.spend(ctx); err != nil {
				return nil, err
			}
		}
		s, err := o.attempt(ctx, dial)
		if token && errors.Is(err, ErrBreakerOpen) {
			o.Budget.Cancel() // no dial was made: the token is unused
		}
		if err == nil {
			return s, nil
		}
		last = err
		switch Classify(err) {
		case ClassAborted:
			if ctx.Err() != nil {
				return nil, aborted(ctx)
			}
		case ClassPermanent:
			return nil, err
		}
		if attempt == cfg.Attempts-1 {
			break
		}
		wait := cfg.Delay(attempt, rnd())
		if ra, ok := RetryAfter(err); ok && ra > wait {
			wait = ra
			if errors.Is(err, ErrBreakerOpen) {
				// Every refused session gets the same wait: spread
				// them so they do not wake together.
				wait += cfg.Delay(0, rnd())
			}
		}
		if o.OnRetry != nil {
			o.OnRetry(err, wait)
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, aborted(ctx)
		}
	}
	return nil, last
}

// attempt is one dial through the breaker.
func (o ConnectOptions) attempt(ctx context.Context, dial DialFunc) (Stream, error) {
	if o.Breaker == nil {
		return dial(ctx)
	}
	if ok, wait := o.Breaker.Allow(); !ok {
		return nil, &UpstreamError{Code: "CIRCUIT_OPEN", Reason: "upstream circuit open", RetryAfter: wait, Err: ErrBreakerOpen}
	}
	s, err := dial(ctx)
	switch {
	case err == nil:
		o.Breaker.Success()
	case errors.Is(err, ErrCapacity):
		// The upstream answered: it is busy, not down. Counting this
		// would open the breaker for every session once a few arrive
		// while the pool is full.
		o.Breaker.Abandon()
	case Classify(err) == ClassRetryable:
		o.Breaker.Failure()
	default:
		o.Breaker.Abandon()
	}
	return s, err
}

// spend takes a retry token from the budget, waiting for it if needed,
// and reports whether it took one.
func (o ConnectOptions) spend(ctx context.Context) (bool, error) {
	if o.Budget == nil {
		return false, nil
	}
	wait := o.Budget.Reserve()
	if wait <= 0 {
		return true, nil
	}
	if err := sleep(ctx, wait); err != nil {
		o.Budget.Cancel()
		return false, aborted(ctx)
	}
	return true, nil
}

func aborted(ctx context.Context) error {
	return fmt.Errorf("%w: %w", ErrAborted, context.Cause(ctx))
}

// sleep waits d or until ctx is done, whichever is first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
