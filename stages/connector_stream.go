package stages

import (
	"context"
	"errors"
	"io"
	"time"
)

// stream runs one open upstream stream. It returns nil after a soft stop
// (the input closed; CloseStream sent; the last results forwarded or the
// close timeout passed), ctx's cause after a hard stop, and otherwise the
// error that ended the stream (classify it to decide whether to reconnect).
//
// Audio that could not be sent is put back in the pending buffer for the
// next stream. I/O on the stream uses a context that never expires (an
// expiring context tears a WebSocket down mid-frame and costs a
// registration per call); the stream is torn down by Close when ctx ends.
// The receiving goroutine is owned by this call and joined before it
// returns.
func (c *Connector) stream(ctx context.Context, st *connState, s Stream, out chan<- Update) error {
	ioCtx := context.WithoutCancel(ctx)
	stop := context.AfterFunc(ctx, func() { _ = s.Close() })
	defer stop()

	clock := NewClockMap(c.sc.SampleRateHz)
	recvDone := make(chan error, 1)
	go func() { recvDone <- c.receive(ctx, ioCtx, s, clock, out) }()

	send := func(a Audio) error {
		if err := s.SendAudio(ioCtx, a.PCM); err != nil {
			st.pending.unshift(a)
			return c.sendFailed(s, recvDone, err)
		}
		clock.Sent(a)
		c.deps.Metrics.SentSeconds.Add(SamplesToSeconds(a.Samples(), c.sc.SampleRateHz))
		return nil
	}
	for a, ok := st.pending.pop(); ok; a, ok = st.pending.pop() {
		if err := send(a); err != nil {
			return err
		}
	}

	idle := time.Duration(c.cfg.KeepAliveIdleMs) * time.Millisecond
	keepAlive := time.NewTimer(idle)
	defer keepAlive.Stop()
	for {
		select {
		case a, ok := <-st.in:
			if !ok {
				st.in = nil
				return c.closeStream(ctx, ioCtx, s, recvDone)
			}
			if err := send(a); err != nil {
				return err
			}
			keepAlive.Reset(idle)
		case <-keepAlive.C:
			if err := s.SendControl(ioCtx, ControlKeepAlive); err != nil {
				return c.sendFailed(s, recvDone, err)
			}
			c.deps.Metrics.KeepAlives.Inc()
			keepAlive.Reset(idle)
		case err := <-recvDone:
			_ = s.Close()
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if err == nil {
				err = &UpstreamError{CloseCode: 1000, Reason: "upstream ended the stream unasked"}
			}
			return err
		case <-ctx.Done():
			c.join(recvDone)
			return context.Cause(ctx)
		}
	}
}

// sendFailed closes s after a failed send and returns the better of the
// two errors: the receiver's, when it saw a permanent end (e.g. close
// 1008), else the send error as a retryable upstream failure.
func (c *Connector) sendFailed(s Stream, recvDone <-chan error, sendErr error) error {
	_ = s.Close()
	if rerr := <-recvDone; rerr != nil && Classify(rerr) == ClassPermanent {
		return rerr
	}
	var ue *UpstreamError
	if errors.As(sendErr, &ue) {
		return sendErr
	}
	return &UpstreamError{CloseCode: 1006, Reason: "send failed", Err: sendErr}
}

// closeStream ends s after the input closed: CloseStream, then wait up to
// CloseTimeoutMs for the receiver to forward the last results and see the
// end of the stream.
func (c *Connector) closeStream(ctx context.Context, ioCtx context.Context, s Stream, recvDone <-chan error) error {
	if err := s.SendControl(ioCtx, ControlCloseStream); err != nil {
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

// receive forwards results, mapped onto the capture clock, until the
// stream ends. It returns nil when the provider ended the stream normally.
func (c *Connector) receive(ctx, ioCtx context.Context, s Stream, clock *ClockMap, out chan<- Update) error {
	for {
		r, err := s.Recv(ioCtx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := Send(ctx, out, Update{Kind: EventResult, Result: clock.MapResult(r)}); err != nil {
			return err
		}
	}
}

// join waits for the receiving goroutine after the stream was closed; its
// error then only says the stream ended, so it is logged, not returned.
func (c *Connector) join(recvDone <-chan error) {
	if err := <-recvDone; err != nil && !errors.Is(err, io.EOF) {
		c.log.Debug("upstream receiver ended", "err", err)
	}
}
