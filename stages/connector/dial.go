package connector

import (
	"context"
	"time"

	"earshot/stages"
	"earshot/stages/retry"
)

type dialResult struct {
	s   stages.Stream
	err error
}

// connectLink waits delay, then dials the current provider with backoff
// (a reconnect when reconnect), while it keeps taking audio from the
// input into the replay ring so that no earlier stage blocks. A budget
// over 0 bounds the whole connect: when it passes, the connect fails
// with a retryable error (the chain moves on). onward says the chain has
// somewhere else to go: an open breaker then ends the connect at once
// instead of being waited for.
//
// The dial runs in a goroutine owned by this call and joined before it
// returns. It is cancelled at once when ctx is done or when the input closes
// (the client left): either yields an error wrapping ErrAborted, and no
// stream.
func (c *Connector) connectLink(ctx context.Context, st *connState, delay time.Duration, reconnect bool,
	budget time.Duration, onward bool) (stages.Stream, error) {
	if st.in == nil {
		return nil, stages.Aborted(ctx)
	}
	backoff := c.cfg.Backoff
	if reconnect {
		backoff.Attempts = c.cfg.ReconnectAttempts
	}
	link := c.links()[st.link]
	name := link.Provider.Name()
	dctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if budget > 0 {
		t := time.AfterFunc(budget, func() { cancel(errFailoverDue) })
		defer t.Stop()
	}
	done := make(chan dialResult, 1)
	go func() {
		if delay > 0 {
			if err := retry.Wait(dctx, delay); err != nil {
				done <- dialResult{err: failoverDue(dctx, stages.Aborted(dctx))}
				return
			}
		}
		s, err := retry.Connect(dctx, func(ctx context.Context) (stages.Stream, error) { return c.dial(ctx, link.Provider) }, retry.Options{
			Backoff: backoff, Rand: c.deps.Rand, Breaker: link.Breaker, Budget: c.deps.Budget,
			FirstIsRetry: reconnect, BreakerOpenEnds: onward,
			OnRetry: func(err error, wait time.Duration) {
				c.log.Info("upstream dial failed; retrying", "provider", name,
					"class", stages.Classify(err).String(), "wait", wait, "err", err)
			},
		})
		if err != nil {
			err = failoverDue(dctx, err)
		}
		done <- dialResult{s: s, err: err}
	}()
	abort := func() (stages.Stream, error) {
		cancel(nil)
		if r := <-done; r.s != nil {
			_ = r.s.Close()
		}
		c.deps.Metrics.connects("aborted").Inc()
		return nil, stages.Aborted(ctx)
	}
	for {
		select {
		case r := <-done:
			switch {
			case r.err == nil:
				c.deps.Metrics.connects("ok").Inc()
			case stages.Classify(r.err) == stages.ClassAborted:
				c.deps.Metrics.connects("aborted").Inc()
			case stages.Classify(r.err) == stages.ClassPermanent:
				c.deps.Metrics.connects("permanent").Inc()
			default:
				c.deps.Metrics.connects("exhausted").Inc()
			}
			return r.s, r.err
		case a, ok := <-st.in:
			if !ok {
				st.in = nil
				return abort()
			}
			// No stream is open: a Finalize the gate's silence
			// calls for has nothing to finalize (the pause watch
			// finalizes the replay), and what the ring evicted can
			// never be covered by a final.
			if took, _ := st.take(a, noStream); took {
				c.settleLost(st)
			}
		case <-ctx.Done():
			return abort()
		}
	}
}

// dial is one attempt at p, timed and counted.
func (c *Connector) dial(ctx context.Context, p stages.Provider) (stages.Stream, error) {
	c.deps.Metrics.Attempts.Inc()
	start := time.Now()
	s, err := p.Dial(ctx, c.sc)
	c.deps.Metrics.DialSeconds.UpdateDuration(start)
	if err != nil && stages.Classify(err) != stages.ClassAborted {
		c.deps.Metrics.dialFailures(failureReason(err)).Inc()
	}
	return s, err
}

// noStream drops a Finalize that falls due while no stream is open.
func noStream() error { return nil }
