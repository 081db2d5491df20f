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

// connect waits delay, then dials with backoff (a reconnect when reconnect),
// while it keeps taking audio from the input into the replay ring so that
// no earlier stage blocks.
//
// The dial runs in a goroutine owned by this call and joined before it
// returns. It is cancelled at once when ctx is done or when the input closes
// (the client left): either yields an error wrapping ErrAborted, and no
// stream.
func (c *Connector) connect(ctx context.Context, st *connState, delay time.Duration, reconnect bool) (stages.Stream, error) {
	if st.in == nil {
		return nil, stages.Aborted(ctx)
	}
	backoff := c.cfg.Backoff
	if reconnect {
		backoff.Attempts = c.cfg.ReconnectAttempts
	}
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan dialResult, 1)
	go func() {
		if delay > 0 {
			if err := retry.Wait(dctx, delay); err != nil {
				done <- dialResult{err: stages.Aborted(dctx)}
				return
			}
		}
		s, err := retry.Connect(dctx, c.dial, retry.Options{
			Backoff: backoff, Rand: c.deps.Rand, Breaker: c.deps.Breaker, Budget: c.deps.Budget,
			FirstIsRetry: reconnect,
			OnRetry: func(err error, wait time.Duration) {
				c.log.Info("upstream dial failed; retrying", "provider", c.deps.Provider.Name(),
					"class", stages.Classify(err).String(), "wait", wait, "err", err)
			},
		})
		done <- dialResult{s: s, err: err}
	}()
	abort := func() (stages.Stream, error) {
		cancel()
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

// dial is one attempt, timed and counted.
func (c *Connector) dial(ctx context.Context) (stages.Stream, error) {
	c.deps.Metrics.Attempts.Inc()
	start := time.Now()
	s, err := c.deps.Provider.Dial(ctx, c.sc)
	c.deps.Metrics.DialSeconds.UpdateDuration(start)
	if err != nil && stages.Classify(err) != stages.ClassAborted {
		c.deps.Metrics.dialFailures(failureReason(err)).Inc()
	}
	return s, err
}

// noStream drops a Finalize that falls due while no stream is open.
func noStream() error { return nil }
