package connector

import (
	"context"
	"errors"
	"io"
	"time"

	"earshot/stages"
)

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
// end of the stream. finished reports that the upstream ended the stream
// normally after CloseStream: it has sent the results of everything it
// heard.
func (c *Connector) closeStream(ctx context.Context, ioCtx context.Context, s stages.Stream, recvDone <-chan error) (finished bool, err error) {
	if err := s.SendControl(ioCtx, stages.ControlCloseStream); err != nil {
		_ = s.Close()
		c.join(recvDone)
		c.log.Warn("upstream CloseStream failed; last results may be missing", "err", err)
		return false, ctxErr(ctx)
	}
	t := time.NewTimer(time.Duration(c.cfg.CloseTimeoutMs) * time.Millisecond)
	defer t.Stop()
	select {
	case err := <-recvDone:
		_ = s.Close()
		if err != nil && ctx.Err() == nil {
			c.log.Warn("upstream stream ended badly after CloseStream", "err", err)
		}
		finished = err == nil
	case <-t.C:
		c.log.Warn("upstream did not finish the stream in time; closing it", "timeout_ms", c.cfg.CloseTimeoutMs)
		_ = s.Close()
		c.join(recvDone)
	case <-ctx.Done():
		c.join(recvDone)
	}
	return finished, ctxErr(ctx)
}

// join waits for the receiving goroutine after the stream was closed; its
// error then only says the stream ended, so it is logged, not returned.
func (c *Connector) join(recvDone <-chan error) {
	if err := <-recvDone; err != nil && !errors.Is(err, io.EOF) {
		c.log.Debug("upstream receiver ended", "err", err)
	}
}
