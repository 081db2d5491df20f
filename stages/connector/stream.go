package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync/atomic"
	"time"

	"earshot/stages"
)

// stream runs one open upstream stream. It returns nil after a soft stop
// (the input closed; CloseStream sent; the last results forwarded or the
// close timeout passed), ctx's cause after a hard stop, and otherwise the
// error that ended the stream (classify it to decide whether to reconnect).
//
// It first replays the ring: every sample no final result has covered yet,
// then goes on with live audio. Results are mapped onto the capture clock;
// words that start before the point final results had already covered when
// this stream opened are dropped, so replayed audio never yields a word
// twice.
//
// I/O on the stream uses a context that never expires (an expiring context
// tears a WebSocket down mid-frame and costs a registration per call); the
// stream is torn down by Close when ctx ends. The receiving goroutine is
// owned by this call and joined before it returns.
func (c *Connector) stream(ctx context.Context, st *connState, s stages.Stream, out chan<- stages.Update) error {
	ioCtx := context.WithoutCancel(ctx)
	stop := context.AfterFunc(ctx, func() { _ = s.Close() })
	defer stop()

	st.ring.ack(st.acked)
	// Audio the ring evicted while the last stream was open and that no
	// final covered since is lost.
	c.settleLost(st)
	if replayed := st.ring.rewind(); replayed > 0 {
		c.replayed(replayed)
	}

	rx := &receiver{
		c: c, s: s, out: out,
		clock:        NewClockMap(c.sc.SampleRateHz),
		dedupeBefore: stages.SamplesToSeconds(st.acked, c.sc.SampleRateHz),
	}
	rx.acked.Store(st.acked)
	recvDone := make(chan error, 1)
	go func() { recvDone <- rx.run(ctx, ioCtx) }()

	fail := func(err error) error {
		st.acked = max(st.acked, rx.acked.Load())
		return err
	}
	flush := func() error {
		st.ring.ack(rx.acked.Load())
		for a, ok := st.ring.next(); ok; a, ok = st.ring.next() {
			if err := s.SendAudio(ioCtx, a.PCM); err != nil {
				st.ring.unsend()
				return c.sendFailed(s, recvDone, err)
			}
			rx.clock.Sent(a)
			c.sentAudio(a.Samples())
		}
		return nil
	}
	replaying := st.ring.held() > 0
	if err := flush(); err != nil {
		return fail(err)
	}

	idle := time.Duration(c.cfg.KeepAliveIdleMs) * time.Millisecond
	keepAlive := time.NewTimer(idle)
	defer keepAlive.Stop()
	watch := newStallWatch(c.cfg.StallTimeoutMs)
	defer watch.stop()
	pause := newPauseWatch(c.cfg.FinalizeIdleMs)
	defer pause.stop()
	// finalizedTo is st.wordsEnd when a Finalize was last sent on this
	// stream: the words up to it were asked for, by the gate or a pause.
	finalizedTo := int64(-1)
	finalize := func() (bool, error) {
		if rx.acked.Load() >= st.wordsEnd || finalizedTo >= st.wordsEnd {
			return false, nil
		}
		if err := s.SendControl(ioCtx, stages.ControlFinalize); err != nil {
			return false, fail(c.sendFailed(s, recvDone, err))
		}
		finalizedTo = st.wordsEnd
		return true, nil
	}
	if replaying {
		watch.sent(rx.results.Load())
		pause.sent()
	}
	for {
		select {
		case a, ok := <-st.in:
			if !ok {
				st.in = nil
				err := c.closeStream(ctx, ioCtx, s, recvDone)
				st.acked = max(st.acked, rx.acked.Load())
				// What no final covers now is lost: evicted, or
				// still held.
				st.ring.ack(st.acked)
				c.settleLost(st)
				c.lose(st.ring.held())
				return err
			}
			if a.Mark == stages.MarkFinalize {
				// The gate saw the speech end: ask for the words
				// once, unless finals already cover them.
				sent, err := finalize()
				if err != nil {
					return err
				}
				if sent {
					c.deps.Metrics.GateFinalizes.Inc()
				}
				continue
			}
			if !st.take(a) {
				continue
			}
			if err := flush(); err != nil {
				return fail(err)
			}
			watch.sent(rx.results.Load())
			pause.sent()
			keepAlive.Reset(idle)
		case <-pause.c():
			// The audio paused: ask for the pending words once, unless
			// finals cover them or they were asked for already (by the
			// gate, whose hangover silence is MarkQuiet).
			sent, err := finalize()
			if err != nil {
				return err
			}
			if sent {
				c.deps.Metrics.IdleFinalizes.Inc()
			}
		case <-keepAlive.C:
			if err := s.SendControl(ioCtx, stages.ControlKeepAlive); err != nil {
				return fail(c.sendFailed(s, recvDone, err))
			}
			c.keptAlive()
			keepAlive.Reset(idle)
		case <-watch.c():
			switch watch.fire(rx.results.Load()) {
			case stallProbe:
				if err := s.SendControl(ioCtx, stages.ControlFinalize); err != nil {
					return fail(c.sendFailed(s, recvDone, err))
				}
			case stallDead:
				c.deps.Metrics.Stalls.Inc()
				_ = s.Close()
				c.join(recvDone)
				return fail(&stages.UpstreamError{Code: "STALL", Err: ErrStalled,
					Reason: fmt.Sprintf("no result for %d ms", c.cfg.StallTimeoutMs)})
			}
		case err := <-recvDone:
			_ = s.Close()
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if err == nil {
				err = &stages.UpstreamError{CloseCode: 1000, Reason: "upstream ended the stream unasked"}
			}
			return fail(err)
		case <-ctx.Done():
			c.join(recvDone)
			return context.Cause(ctx)
		}
	}
}

// receiver is the goroutine that reads one stream's results.
type receiver struct {
	c     *Connector
	s     stages.Stream
	out   chan<- stages.Update
	clock *ClockMap
	// dedupeBefore: words starting before this capture second were
	// already emitted from an earlier stream.
	dedupeBefore float64
	// acked is the capture index final results cover up to; results
	// counts every result received (the stall watch reads both).
	acked   atomic.Int64
	results atomic.Int64
}

// run forwards results until the stream ends. It returns nil when the
// provider ended the stream normally.
func (r *receiver) run(ctx, ioCtx context.Context) error {
	rate := float64(r.c.sc.SampleRateHz)
	for {
		res, err := r.s.Recv(ioCtx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		r.results.Add(1)
		res = r.clock.MapResult(res)
		if res.IsFinal {
			end := int64(math.Round((res.StartSec + res.DurationSec) * rate))
			if end > r.acked.Load() {
				r.acked.Store(end)
			}
		}
		res.Words = r.fresh(res.Words)
		if err := stages.Send(ctx, r.out, stages.Update{Kind: stages.EventResult, Result: res}); err != nil {
			return err
		}
	}
}

// fresh drops words an earlier stream already emitted (from replayed
// audio), in place.
func (r *receiver) fresh(words []stages.Word) []stages.Word {
	const toleranceSec = 0.001
	kept := words[:0]
	for _, w := range words {
		if w.StartSec >= r.dedupeBefore-toleranceSec {
			kept = append(kept, w)
		} else {
			r.c.deps.Metrics.DuplicateWords.Inc()
		}
	}
	return kept
}

// sendFailed closes s after a failed send and returns the better of the
// two errors: the receiver's, when it saw a permanent end (e.g. close
// 1008), else the send error as a retryable upstream failure.
func (c *Connector) sendFailed(s stages.Stream, recvDone <-chan error, sendErr error) error {
	_ = s.Close()
	if rerr := <-recvDone; rerr != nil && stages.Classify(rerr) == stages.ClassPermanent {
		return rerr
	}
	var ue *stages.UpstreamError
	if errors.As(sendErr, &ue) {
		return sendErr
	}
	return &stages.UpstreamError{CloseCode: 1006, Reason: "send failed", Err: sendErr}
}

// closeStream ends s after the input closed: CloseStream, then wait up to
// CloseTimeoutMs for the receiver to forward the last results and see the
// end of the stream.
func (c *Connector) closeStream(ctx context.Context, ioCtx context.Context, s stages.Stream, recvDone <-chan error) error {
	if err := s.SendControl(ioCtx, stages.ControlCloseStream); err != nil {
		_ = s.Close()
		c.join(recvDone)
		c.log.Warn("upstream CloseStream failed; last results may be missing", "err", err)
		return ctxErr(ctx)
	}
	t := time.NewTimer(time.Duration(c.cfg.CloseTimeoutMs) * time.Millisecond)
	defer t.Stop()
	select {
	case err := <-recvDone:
		_ = s.Close()
		if err != nil && ctx.Err() == nil {
			c.log.Warn("upstream stream ended badly after CloseStream", "err", err)
		}
	case <-t.C:
		c.log.Warn("upstream did not finish the stream in time; closing it", "timeout_ms", c.cfg.CloseTimeoutMs)
		_ = s.Close()
		c.join(recvDone)
	case <-ctx.Done():
		c.join(recvDone)
	}
	return ctxErr(ctx)
}

// join waits for the receiving goroutine after the stream was closed; its
// error then only says the stream ended, so it is logged, not returned.
func (c *Connector) join(recvDone <-chan error) {
	if err := <-recvDone; err != nil && !errors.Is(err, io.EOF) {
		c.log.Debug("upstream receiver ended", "err", err)
	}
}
