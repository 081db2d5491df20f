package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"earshot/stages"
)

// DialFunc makes one attempt at opening a connection of type T (an
// upstream stream, a downstream socket). Its error decides what comes next
// (stages.Classify): permanent errors end Connect, retryable ones are
// retried, and an *stages.UpstreamError's RetryAfter lengthens the wait.
type DialFunc[T any] func(ctx context.Context) (T, error)

// Options shape one Connect call.
type Options struct {
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
	// BreakerOpenEnds makes an attempt the Breaker refuses end Connect at
	// once with that ErrBreakerOpen error, instead of waiting for the
	// breaker: for a caller with somewhere else to go (the next provider
	// of a chain).
	BreakerOpenEnds bool
}

// Connect dials until a dial succeeds, a permanent error comes, the
// attempts run out, or ctx is done.
//
// Every wait is a time.Timer in a select with ctx.Done(), so cancelling ctx
// (the client left) interrupts a dial in flight or a wait at once. Outcomes:
//   - a connection and nil: connected;
//   - the zero T and an error wrapping stages.ErrAborted: ctx was done
//     (before the first dial no dial is made); there is no connection and
//     nothing to report;
//   - the zero T and the dial's error: permanent, not retried;
//   - the zero T and the last attempt's error: attempts exhausted.
//
// A Retry-After from the upstream lengthens the wait to at least that long.
func Connect[T any](ctx context.Context, dial DialFunc[T], o Options) (T, error) {
	var none T
	cfg := o.Backoff.withDefaults()
	rnd := o.Rand
	if rnd == nil {
		rnd = rand.Float64
	}
	if cfg.Attempts == 0 {
		return none, fmt.Errorf("%w: connect configured with zero attempts", stages.ErrPermanent)
	}
	var last error
	failed := 0 // dials that failed: the backoff's exponent (refusals by the breaker are no dials)
	for n := range cfg.Attempts {
		if ctx.Err() != nil {
			return none, stages.Aborted(ctx)
		}
		token := false
		if n > 0 || o.FirstIsRetry {
			var err error
			if token, err = o.spend(ctx); err != nil {
				return none, err
			}
		}
		conn, err := attempt(ctx, o, dial)
		if token && errors.Is(err, ErrBreakerOpen) {
			o.Budget.Cancel() // no dial was made: the token is unused
		}
		if err == nil {
			return conn, nil
		}
		last = err
		switch stages.Classify(err) {
		case stages.ClassAborted:
			if ctx.Err() != nil {
				return none, stages.Aborted(ctx)
			}
		case stages.ClassPermanent:
			return none, err
		}
		if n == cfg.Attempts-1 {
			break
		}
		if errors.Is(err, ErrBreakerOpen) && o.BreakerOpenEnds {
			return none, err
		}
		if errors.Is(err, ErrBreakerOpen) {
			// No dial was made: wait for the breaker only (its
			// Retry-After), not a backoff delay that grows with each
			// refusal, and go as soon as a probe succeeds. Every
			// refused session waits about as long, so each goes after
			// its own draw within BreakerResumeSpread (the retry
			// budget paces them further).
			ra, _ := stages.RetryAfter(err)
			if o.OnRetry != nil {
				o.OnRetry(err, ra)
			}
			if err := waitOr(ctx, ra, o.Breaker.Closed()); err != nil {
				return none, stages.Aborted(ctx)
			}
			if err := Wait(ctx, time.Duration(rnd()*float64(BreakerResumeSpread))); err != nil {
				return none, stages.Aborted(ctx)
			}
			continue
		}
		wait := cfg.Delay(failed, rnd())
		failed++
		if ra, ok := stages.RetryAfter(err); ok && ra > wait {
			wait = ra
		}
		if o.OnRetry != nil {
			o.OnRetry(err, wait)
		}
		if err := Wait(ctx, wait); err != nil {
			return none, stages.Aborted(ctx)
		}
	}
	return none, last
}

// attempt is one dial through the breaker.
func attempt[T any](ctx context.Context, o Options, dial DialFunc[T]) (T, error) {
	if o.Breaker == nil {
		return dial(ctx)
	}
	if ok, wait := o.Breaker.Allow(); !ok {
		var none T
		return none, &stages.UpstreamError{Code: "CIRCUIT_OPEN", Reason: "upstream circuit open", RetryAfter: wait, Err: ErrBreakerOpen}
	}
	s, err := dial(ctx)
	switch {
	case err == nil:
		o.Breaker.Success()
	case errors.Is(err, stages.ErrCapacity):
		// The upstream answered: it is busy, not down. Counting this
		// would open the breaker for every session once a few arrive
		// while the pool is full.
		o.Breaker.Abandon()
	case stages.Classify(err) == stages.ClassRetryable:
		o.Breaker.Failure()
	case stages.Classify(err) == stages.ClassPermanent:
		o.Breaker.Refused(stages.Reason(err))
	default:
		o.Breaker.Abandon()
	}
	return s, err
}

// spend takes a retry token from the budget, waiting for it if needed,
// and reports whether it took one.
func (o Options) spend(ctx context.Context) (bool, error) {
	if o.Budget == nil {
		return false, nil
	}
	wait := o.Budget.Reserve()
	if wait <= 0 {
		return true, nil
	}
	if err := Wait(ctx, wait); err != nil {
		o.Budget.Cancel()
		return false, stages.Aborted(ctx)
	}
	return true, nil
}

// Wait waits d or until ctx is done, whichever is first, and returns nil
// or ctx's cause. It is the one way a retry waits: a time.Timer in a
// select with ctx.Done(), stopped on return, so a client that leaves ends
// the wait at once.
func Wait(ctx context.Context, d time.Duration) error { return waitOr(ctx, d, nil) }

// waitOr is Wait that also ends, with nil, when wake is closed (a nil
// wake never is).
func waitOr(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-wake:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
