package stages

import (
	"context"
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

// Connect dials until a dial succeeds, a permanent error comes, the
// attempts run out, or ctx is done.
//
// Every wait is a time.Timer in a select with ctx.Done(), so cancelling ctx
// (the client left) interrupts a dial in flight or a wait at once. Outcomes:
//   - a Stream and nil: connected;
//   - nil and an error wrapping ErrAborted: ctx was done (before the first
//     dial no dial is made); there is no socket and nothing to report;
//   - nil and the dial's error: permanent, not retried;
//   - nil and the last dial's error: attempts exhausted.
//
// A Retry-After from the upstream lengthens the wait to at least that long.
// onRetry, if not nil, is called before each wait with the failed dial's
// error and the chosen delay. rnd, if nil, is math/rand/v2's Float64.
func Connect(ctx context.Context, dial DialFunc, cfg BackoffConfig, rnd func() float64, onRetry func(err error, wait time.Duration)) (Stream, error) {
	cfg = cfg.withDefaults()
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
		s, err := dial(ctx)
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
		}
		if onRetry != nil {
			onRetry(err, wait)
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, aborted(ctx)
		}
	}
	return nil, last
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
