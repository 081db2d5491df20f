package connector

import (
	"context"
	"errors"
	"time"

	"earshot/stages"
	"earshot/stages/retry"
)

// DefaultFailbackCheckMs is Config.FailbackCheckMs's default.
const DefaultFailbackCheckMs = 5000

// endpointSlackMs: after an endpoint, this much audio not yet covered by
// a final still counts as an utterance boundary (the pause itself).
const endpointSlackMs = 300

// failback is the error that ends a stream to move the session back to
// the earlier provider link, whose stream s is open already.
type failback struct {
	link int
	s    stages.Stream
}

func (f *failback) Error() string { return "failing back to an earlier provider" }

// errNotBoundary: a fail-back's dial came back while the session was
// no longer at an utterance boundary; the stream it opened is closed.
var errNotBoundary = errors.New("not at an utterance boundary")

// failbackDial is the outcome of a fail-back's dial.
type failbackDial struct {
	link int
	s    stages.Stream
	err  error
}

// failbackTarget is the earliest provider before the current one that
// serves the session's language, did not refuse the session for good,
// and whose breaker is neither open nor broken (its latest dial refused
// permanently), or -1.
func (c *Connector) failbackTarget(st *connState) int {
	if st.link == 0 || st.failovers >= c.cfg.MaxFailovers || c.cfg.FailbackCheckMs < 0 {
		return -1
	}
	for i, l := range c.links()[:st.link] {
		if st.banned[i] || !c.serves(i) {
			continue
		}
		if l.Breaker == nil {
			return i
		}
		if _, broken := l.Breaker.Broken(); !broken && l.Breaker.State() != retry.BreakerOpen {
			return i
		}
	}
	return -1
}

// failedBack makes the fail-back's provider the current one.
func (c *Connector) failedBack(st *connState, fb *failback) {
	from := c.name(st)
	st.link = fb.link
	st.failovers++
	to := c.name(st)
	c.deps.Metrics.failbacks(from, to).Inc()
	c.log.Info("upstream failing back", "from", from, "to", to, "failovers", st.failovers)
}

// boundary reports whether the stream is at an utterance boundary: every
// sample that may hold words is covered by final results (the gate's
// silence after its Finalize was answered), or the latest final was an
// endpoint with at most endpointSlackMs of audio after it.
func (r *streamRun) boundary() bool {
	acked := r.rx.acked.Load()
	if acked >= r.st.wordsEnd {
		return true
	}
	return r.rx.endpoint.Load() && r.st.wordsEnd-acked <= r.c.samples(endpointSlackMs)
}

// failbackTick is the periodic check: at a boundary, with an earlier
// provider healthy again, dial it in the background (one attempt,
// through its breaker).
func (r *streamRun) failbackTick() {
	if r.fbDialing || !r.boundary() {
		return
	}
	h := r.c.failbackTarget(r.st)
	if h < 0 {
		return
	}
	link := r.c.links()[h]
	r.fbDialing = true
	go func() {
		s, err := retry.Connect(r.fbCtx, func(ctx context.Context) (stages.Stream, error) { return r.c.dial(ctx, link.Provider) },
			retry.Options{Backoff: retry.BackoffConfig{Attempts: 1}, Rand: r.c.deps.Rand, Breaker: link.Breaker, BreakerOpenEnds: true})
		r.fbDone <- failbackDial{link: h, s: s, err: err}
	}()
}

// failbackDialed takes the dial's outcome: at a boundary, the stream
// ends with a *failback carrying the new stream (Run switches to it);
// otherwise the new stream is closed and a later check tries again.
func (r *streamRun) failbackDialed(d failbackDial) error {
	r.fbDialing = false
	if d.err != nil {
		// The probe failed (its breaker counted it): the session stays
		// where it is, and a later check tries again.
		r.c.log.Debug("fail-back probe failed", "provider", r.c.links()[d.link].Provider.Name(), "err", d.err)
		return nil //nolint:nilerr // a failed probe is not this stream's error
	}
	if !r.boundary() {
		_ = d.s.Close()
		r.c.log.Debug("fail-back postponed", "err", errNotBoundary)
		return nil
	}
	_ = r.s.Close()
	r.c.join(r.recvDone)
	r.st.acked = max(r.st.acked, r.rx.acked.Load())
	return &failback{link: d.link, s: d.s}
}

// failbackTicks returns the check's channel: nil while the session is
// on its first provider.
func (r *streamRun) failbackTicks() <-chan time.Time {
	if r.fbTicker == nil {
		return nil
	}
	return r.fbTicker.C
}

// stopFailback ends a dial in flight and closes the stream it opened.
func (r *streamRun) stopFailback() {
	if r.fbTicker != nil {
		r.fbTicker.Stop()
	}
	r.fbCancel()
	if r.fbDialing {
		if d := <-r.fbDone; d.s != nil {
			_ = d.s.Close()
		}
		r.fbDialing = false
	}
}
