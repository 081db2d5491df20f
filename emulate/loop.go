package emulate

import (
	"context"
	"log/slog"
	"time"

	"github.com/coder/websocket"
)

// streamEnds are how a front end ends a stream for each reason the loop
// itself decides: the idle timeout, the drop fault (not abrupt: an
// abrupt drop cuts the TCP connection whatever the protocol), and the
// server closing.
type streamEnds struct {
	idle, drop, shutdown func()
}

// serveFrames is the loop of one stream of either front end, until the
// stream ends, and returns how it ended (an End* constant). When it
// returns the connection is closed and the reader goroutine has exited.
//
// One reader goroutine reads frames with a context that never expires while
// the stream lives (an expiring context would close the connection),
// keeping the error that ended it in *readErr; the idle and drop timeouts
// are timers in the loop's select, and every write and close comes from
// the loop (handle, or ends), so messages keep their order. handle takes
// each data frame and reports whether the stream is over and how.
func serveFrames(conn *websocket.Conn, log *slog.Logger, idleAfter time.Duration, faults Faults, stop <-chan struct{},
	readErr *error, handle func(frame) (end string, over bool), ends streamEnds) string {
	ctx, cancel := context.WithCancel(context.Background())
	in := make(chan frame)
	done := make(chan struct{})
	go readFrames(ctx, conn, in, done, readErr)
	defer func() {
		_ = conn.CloseNow() // no-op if already closed; unblocks the reader
		close(done)
		cancel()
		for range in { // wait for the reader to exit
		}
	}()

	idle := time.NewTimer(idleAfter)
	defer idle.Stop()
	var drop <-chan time.Time
	if faults.DropAfterMs > 0 {
		t := time.NewTimer(ms(faults.DropAfterMs))
		defer t.Stop()
		drop = t.C
	}
	for {
		select {
		case f, ok := <-in:
			if !ok {
				log.Debug("emulate: client gone", "err", *readErr)
				return EndClientGone
			}
			idle.Reset(idleAfter)
			if end, over := handle(f); over {
				return end
			}
		case <-idle.C:
			ends.idle()
			return EndIdleTimeout
		case <-drop:
			if faults.DropAbrupt {
				_ = conn.CloseNow()
			} else {
				ends.drop()
			}
			return EndDropped
		case <-stop:
			ends.shutdown()
			return EndServerShutdown
		}
	}
}

// readFrames passes the client's data messages to in until a read fails
// (the client left, or the loop closed the connection; the error goes to
// *readErr) or done is closed. It closes in when it returns.
func readFrames(ctx context.Context, conn *websocket.Conn, in chan<- frame, done <-chan struct{}, readErr *error) {
	defer close(in)
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			*readErr = err
			return
		}
		select {
		case in <- frame{typ, data}:
		case <-done:
			return
		}
	}
}
