package soniox

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

// Control frames, encoded once. The end of the audio (CloseStream) is an
// empty binary frame.
var (
	msgKeepAlive = []byte(`{"type":"keepalive"}`)
	msgFinalize  = []byte(`{"type":"finalize"}`)
)

// Bounds on the per-stream read buffer.
const (
	initialReadBuf = 4 << 10
	maxKeptReadBuf = 64 << 10
)

// stream is one Soniox real-time stream; it implements stages.Stream.
//
// Concurrency: SendAudio and SendControl may run concurrently with each
// other and with Recv (coder/websocket serialises writes); Recv must be
// called from one goroutine at a time (it owns parser, buf, pending and
// recvErr); Close may be called any time, from any goroutine, any number
// of times, and unblocks every pending call.
//
// With coder/websocket a context that ends during a read or write closes
// the whole connection: a ctx passed to any method is a lifetime, not a
// per-call deadline. Pass a context that never expires on the data path
// and tear the stream down with Close.
type stream struct {
	conn *websocket.Conn
	key  string // scrubbed from upstream-provided text

	closed    atomic.Bool                          // Close was called
	closeSent atomic.Bool                          // CloseStream was sent
	end       atomic.Pointer[stages.UpstreamError] // how the upstream ended the stream

	// Owned by the Recv goroutine.
	parser  Parser
	buf     []byte
	pending []stages.Result // parsed, not yet returned
	next    int             // pending[next] is returned next
	recvErr error
}

var _ stages.Stream = (*stream)(nil)

func newStream(conn *websocket.Conn, key string) *stream {
	return &stream{conn: conn, key: key}
}

// SendAudio sends pcm (16-bit little-endian linear PCM, as the start
// message announced) as one binary frame. An empty pcm sends nothing and
// returns nil: an empty frame would end the stream. pcm is not retained.
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

// SendControl sends KeepAlive as {"type":"keepalive"} and Finalize as
// {"type":"finalize"} (text frames; Soniox answers a Finalize with a <fin>
// marker, which Recv returns as a FromFinalize Result), and CloseStream as
// an empty binary frame, the end of the audio: Soniox then sends its last
// tokens and "finished", and closes; Recv returns io.EOF after the last
// Result. Other controls give an error wrapping ErrUnknownControl. Errors
// and concurrency are as for SendAudio.
func (s *stream) SendControl(ctx context.Context, c stages.Control) error {
	typ, msg := websocket.MessageText, []byte(nil)
	switch c {
	case stages.ControlKeepAlive:
		msg = msgKeepAlive
	case stages.ControlFinalize:
		msg = msgFinalize
	case stages.ControlCloseStream:
		typ = websocket.MessageBinary
		s.closeSent.Store(true)
	default:
		return fmt.Errorf("soniox: control %d: %w", int(c), ErrUnknownControl)
	}
	if err := s.conn.Write(ctx, typ, msg); err != nil {
		return s.sendError(ctx, err)
	}
	return nil
}

// Recv returns the next Result (see Parser for how tokens become Results;
// responses that complete nothing are skipped, as are binary frames).
// Times are provider seconds since the stream started. One goroutine at a
// time; a ctx that ends closes the stream.
//
// Any error ends the stream: the connection is already closed, later
// calls return the same error, and Close remains safe (and expected):
//   - io.EOF: close 1000 after SendControl(ControlCloseStream), once the
//     held word (if "finished" did not flush it) has been returned;
//   - ctx's error after a cancellation (stages.ClassAborted);
//   - ErrClosed after Close;
//   - *stages.UpstreamError for everything else: an error response
//     (HTTPStatus holds its code: 400, 401, 402, 403 permanent, others
//     retryable; it wraps ErrResponse), a close frame (CloseCode, Reason;
//     1008 is permanent; a 1000, or "finished", without CloseStream is
//     retryable), a malformed response, a message over the read limit
//     (1009), or a dropped connection (1006).
//
// On an abnormal end the held word is dropped: its audio was not
// acknowledged, so a connector replays it on the next stream.
func (s *stream) Recv(ctx context.Context) (stages.Result, error) {
	for {
		if s.next < len(s.pending) {
			res := s.pending[s.next]
			s.pending[s.next] = stages.Result{}
			s.next++
			return res, nil
		}
		if s.recvErr != nil {
			return stages.Result{}, s.recvErr
		}
		typ, frame, err := s.readFrame(ctx)
		if err != nil {
			s.recvErr = s.recvError(ctx, err)
			if errors.Is(s.recvErr, io.EOF) {
				if res, ok := s.parser.Flush(); ok {
					return res, nil
				}
			}
			return stages.Result{}, s.recvErr
		}
		if typ != websocket.MessageText {
			continue
		}
		s.pending, s.next = s.pending[:0], 0
		s.pending, err = s.parser.Parse(s.pending, frame)
		if err != nil {
			var ue *stages.UpstreamError
			if errors.As(err, &ue) {
				ue.Reason = clientSafe(ue.Reason, s.key)
				s.fail(ue)
			}
			_ = s.conn.CloseNow()
			s.recvErr = err
			return stages.Result{}, err
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
		return fmt.Errorf("soniox close: %w", err)
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

// recvError maps a read error onto the Recv contract. The connection is
// closed on return (a cancelled ctx closes it only asynchronously).
func (s *stream) recvError(ctx context.Context, err error) error {
	_ = s.conn.CloseNow()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxError("recv", ctxErr, context.Cause(ctx))
	}
	if s.closed.Load() {
		return fmt.Errorf("soniox recv: %w", ErrClosed)
	}
	var ce websocket.CloseError
	var ue *stages.UpstreamError
	switch {
	case errors.As(err, &ce):
		if ce.Code == websocket.StatusNormalClosure && s.closeSent.Load() {
			return io.EOF
		}
		ue = closeError(int(ce.Code), ce.Reason, s.key)
		if ce.Code == websocket.StatusNormalClosure {
			why := "closed without CloseStream: "
			if s.parser.Finished() {
				why = "finished without CloseStream: "
			}
			ue.Reason = why + ue.Reason
		}
	case errors.Is(err, websocket.ErrMessageTooBig):
		ue = &stages.UpstreamError{
			CloseCode: int(websocket.StatusMessageTooBig),
			Reason:    "message over read limit",
			Err:       err,
		}
	default:
		ue = &stages.UpstreamError{
			CloseCode: int(websocket.StatusAbnormalClosure),
			Reason:    "connection lost",
			Err:       unexpectedEOF(err),
		}
	}
	s.fail(ue)
	return ue
}

// sendError maps a write error onto the Send contract.
func (s *stream) sendError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxError("send", ctxErr, context.Cause(ctx))
	}
	if s.closed.Load() {
		return fmt.Errorf("soniox send: %w", ErrClosed)
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
