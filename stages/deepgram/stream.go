package deepgram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"

	"github.com/coder/websocket"

	"earshot/internal/readall"
	"earshot/stages"
)

// Control frames, encoded once.
var (
	msgKeepAlive   = []byte(`{"type":"KeepAlive"}`)
	msgFinalize    = []byte(`{"type":"Finalize"}`)
	msgCloseStream = []byte(`{"type":"CloseStream"}`)
)

// Bounds on the per-stream read buffer.
const (
	initialReadBuf = 4 << 10
	maxKeptReadBuf = 64 << 10
)

// stream is one Deepgram live stream; it implements stages.Stream.
//
// Concurrency: SendAudio and SendControl may run concurrently with each
// other and with Recv (coder/websocket serialises writes); Recv must be
// called from one goroutine at a time (it owns parser, buf and recvErr);
// Close may be called any time, from any goroutine, any number of times.
//
// With coder/websocket a context that ends during a read or write closes
// the whole connection: a ctx passed to any method is a lifetime, not a
// per-call deadline. Pass a context without a Done channel (e.g.
// context.WithoutCancel) on the data path to skip the per-call context
// registration, and tear the stream down with Close.
type stream struct {
	conn *websocket.Conn
	key  string // scrubbed from upstream-provided text

	closed    atomic.Bool                          // Close was called
	closeSent atomic.Bool                          // CloseStream was sent
	end       atomic.Pointer[stages.UpstreamError] // how the upstream ended the stream

	// Owned by the Recv goroutine.
	parser  Parser
	buf     []byte
	recvErr error
}

var _ stages.Stream = (*stream)(nil)

func newStream(conn *websocket.Conn, key string) *stream {
	return &stream{conn: conn, key: key}
}

// SendAudio sends pcm as one binary frame. An empty pcm sends nothing
// (Deepgram may close a stream on an empty frame) and returns nil. pcm is
// not retained. A ctx that ends during the write closes the stream.
//
// Errors: ctx's error after a cancellation; ErrClosed after Close; the
// upstream's end (as Recv reports it) if already known; otherwise a
// retryable *stages.UpstreamError. Recv is the authority on how a stream
// ended: a send can fail before Recv has read the close frame.
func (s *stream) SendAudio(ctx context.Context, pcm []byte) error {
	if len(pcm) == 0 {
		return nil
	}
	if err := s.conn.Write(ctx, websocket.MessageBinary, pcm); err != nil {
		return s.sendError(ctx, err)
	}
	return nil
}

// SendControl sends KeepAlive, Finalize or CloseStream as a text frame
// ({"type":"KeepAlive"} and so on, without allocating). After
// CloseStream, a close 1000 from the server makes Recv return io.EOF.
// Other controls give an error wrapping ErrUnknownControl. Errors and
// concurrency are as for SendAudio.
func (s *stream) SendControl(ctx context.Context, c stages.Control) error {
	var msg []byte
	switch c {
	case stages.ControlKeepAlive:
		msg = msgKeepAlive
	case stages.ControlFinalize:
		msg = msgFinalize
	case stages.ControlCloseStream:
		msg = msgCloseStream
		s.closeSent.Store(true)
	default:
		return fmt.Errorf("deepgram: control %d: %w", int(c), ErrUnknownControl)
	}
	if err := s.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		return s.sendError(ctx, err)
	}
	return nil
}

// Recv returns the next Results message, skipping every other message
// type and any binary frame. Times are provider seconds since the stream
// started. One goroutine at a time; a ctx that ends closes the stream.
//
// Any error ends the stream: the connection is already closed, later
// calls return the same error, and Close remains safe (and expected):
//   - io.EOF: close 1000 after SendControl(ControlCloseStream);
//   - ctx's error after a cancellation (stages.ClassAborted);
//   - ErrClosed after Close;
//   - *stages.UpstreamError for everything else: a close frame (CloseCode,
//     Code NET-0000/NET-0001/DATA-0000 when the reason names one, Reason;
//     1008 is permanent, a 1000 without CloseStream retryable), an
//     in-band Error message, a malformed message, a message over the read
//     limit (1009), or a dropped connection (1006).
func (s *stream) Recv(ctx context.Context) (stages.Result, error) {
	if s.recvErr != nil {
		return stages.Result{}, s.recvErr
	}
	for {
		typ, frame, err := s.readFrame(ctx)
		if err != nil {
			s.recvErr = s.recvError(ctx, err)
			return stages.Result{}, s.recvErr
		}
		if typ != websocket.MessageText {
			continue
		}
		res, ok, err := s.parser.Parse(frame)
		if err != nil {
			var ue *stages.UpstreamError
			if errors.As(err, &ue) {
				ue.Reason = clientSafe(ue.Reason, s.key)
				ue.Code = clientSafe(ue.Code, s.key)
				s.fail(ue)
			}
			_ = s.conn.CloseNow()
			s.recvErr = err
			return stages.Result{}, err
		}
		if ok {
			return res, nil
		}
	}
}

// Close closes the connection at once, without a closing handshake and
// without waiting for results; pending and later calls return ErrClosed.
// It is idempotent and safe to call concurrently with every method. The
// connection is released even when an error (informational) is returned.
func (s *stream) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.conn.CloseNow(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("deepgram close: %w", err)
	}
	return nil
}

// readFrame reads one whole message into the reused buffer. The returned
// slice is valid until the next call.
func (s *stream) readFrame(ctx context.Context) (websocket.MessageType, []byte, error) {
	typ, r, err := s.conn.Reader(ctx)
	if err != nil {
		return 0, nil, err
	}
	b := s.buf[:0]
	if cap(b) == 0 {
		b = make([]byte, 0, initialReadBuf)
	}
	b, err = readall.Append(b, r)
	if err != nil {
		return 0, nil, err
	}
	if cap(b) <= maxKeptReadBuf {
		s.buf = b
	} else {
		s.buf = nil
	}
	return typ, b, nil
}

// recvError maps a read error onto the Recv contract.
func (s *stream) recvError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxError("recv", ctxErr, context.Cause(ctx))
	}
	if s.closed.Load() {
		return fmt.Errorf("deepgram recv: %w", ErrClosed)
	}
	var ce websocket.CloseError
	switch {
	case errors.As(err, &ce):
		if ce.Code == websocket.StatusNormalClosure && s.closeSent.Load() {
			return io.EOF
		}
		ue := closeError(int(ce.Code), ce.Reason, s.key)
		if ce.Code == websocket.StatusNormalClosure {
			ue.Reason = "closed without CloseStream: " + ue.Reason
		}
		s.fail(ue)
		return ue
	case errors.Is(err, websocket.ErrMessageTooBig):
		ue := &stages.UpstreamError{
			CloseCode: int(websocket.StatusMessageTooBig),
			Reason:    "message over read limit",
			Err:       err,
		}
		s.fail(ue)
		return ue
	default:
		ue := &stages.UpstreamError{
			CloseCode: int(websocket.StatusAbnormalClosure),
			Reason:    "connection lost",
			Err:       unexpectedEOF(err),
		}
		s.fail(ue)
		return ue
	}
}

// sendError maps a write error onto the Send contract.
func (s *stream) sendError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxError("send", ctxErr, context.Cause(ctx))
	}
	if s.closed.Load() {
		return fmt.Errorf("deepgram send: %w", ErrClosed)
	}
	if ue := s.end.Load(); ue != nil {
		return ue
	}
	return &stages.UpstreamError{Reason: "send failed", Err: unexpectedEOF(err)}
}

// fail records how the upstream ended the stream, for senders; the first
// record wins.
func (s *stream) fail(ue *stages.UpstreamError) {
	s.end.CompareAndSwap(nil, ue)
}
