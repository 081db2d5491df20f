package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coder/websocket"

	"earshot/internal/readall"
	"earshot/protocol"
	"earshot/stages"
	"earshot/stages/fanout"
	"earshot/stages/ingest"
)

// read is the session's only reader of the client socket. It hands binary
// frames to send (the readerInput's: a frame passes to it, and its error
// ends read with that error) and speaker assignments to assign (which it
// owns and closes on return), and handles the other text control
// messages. Any frame counts as activity. It returns nil when the client
// leaves (the caller then ends the input: the soft stop), and ctx's cause
// on a hard stop.
func (s *session) read(ctx context.Context, send func([]byte) error, assign chan<- stages.SpeakerAssignment) error {
	defer close(assign)
	ioCtx := context.WithoutCancel(ctx)
	m := s.srv.m
	cfg := s.srv.cfg
	pc := newPace(cfg.MaxPace, cfg.PaceBurstMs, time.Now())
	tooFast := false
	var charged int64 // decoded samples already taken from the pace
	for {
		typ, data, err := readMessage(ioCtx, s.conn)
		if err != nil {
			if code := websocket.CloseStatus(err); code != -1 {
				s.closeCode.CompareAndSwap(0, int64(code))
			} else if errors.Is(err, websocket.ErrMessageTooBig) || isTooBig(err) {
				s.closeCode.CompareAndSwap(0, int64(websocket.StatusMessageTooBig))
			} else if isUnmasked(err) {
				s.closeClient(websocket.StatusProtocolError, "client frames must be masked")
			}
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			s.log.Debug("client left", "err", err)
			return nil
		}
		s.lastActivity.Store(time.Now().UnixNano())
		m.clientFrames.Inc()
		m.clientBytes.Add(len(data))
		switch typ {
		case websocket.MessageBinary:
			if len(data) < ingest.MinAudioFrameBytes {
				stages.ReleaseFrame(data)
				continue
			}
			if tooFast || !pc.take(s.frameDuration(len(data), &charged), time.Now()) {
				// Past the pace: the session is being closed; what
				// comes meanwhile is not audio to transcribe.
				if !tooFast {
					tooFast = true
					m.tooFast.Inc()
					s.log.Warn("client sends audio faster than allowed; closing", "max_pace", cfg.MaxPace)
					s.closeClient(websocket.StatusPolicyViolation, fmt.Sprintf("audio sent faster than %g× real time", cfg.MaxPace))
				}
				stages.ReleaseFrame(data)
				continue
			}
			if err := send(data); err != nil {
				return err
			}
		case websocket.MessageText:
			s.control(data, assign)
			stages.ReleaseFrame(data)
		}
	}
}

// frameDuration is the audio a binary frame of n bytes adds, for the pace,
// in session time (a multi-channel session's channels share it): for raw
// PCM what its length says; for a compressed codec, whose frames' length
// says little, what the ingest stages decoded since the last frame
// (charged holds the samples already counted): in a single-channel
// session the reader decodes each frame itself, so the pace is exact; in
// a multi-channel one it trails by the frames in flight to the channels'
// ingest.
func (s *session) frameDuration(n int, charged *int64) time.Duration {
	if s.params.Codec.Raw() {
		return s.params.duration(n)
	}
	var got int64
	for _, ing := range s.ings {
		got += ing.Samples()
	}
	d := time.Duration((got - *charged) * int64(time.Second) / int64(s.params.SampleRateHz) / int64(len(s.ings)))
	*charged = got
	return d
}

// readMessage is conn.Read into a buffer from stages.NewFrame (the
// message grows it past stages.FrameBytes only when it is larger), where
// io.ReadAll would allocate and copy several times per frame. The caller
// owns the returned bytes.
func readMessage(ctx context.Context, conn *websocket.Conn) (websocket.MessageType, []byte, error) {
	typ, r, err := conn.Reader(ctx)
	if err != nil {
		return 0, nil, err
	}
	b, err := readall.Append(stages.NewFrame(), r)
	if err != nil {
		stages.ReleaseFrame(b)
		return 0, nil, err
	}
	return typ, b, nil
}

// isTooBig reports whether err is the read limit being exceeded; the
// library then closes with 1009 itself.
func isTooBig(err error) bool {
	var ce websocket.CloseError
	return errors.As(err, &ce) && ce.Code == websocket.StatusMessageTooBig
}

// isUnmasked reports whether err is the library refusing a client frame
// without a mask. It answers the other protocol errors it meets (bad
// reserved bits, unknown opcodes) with 1002 itself, but this one only
// with the error, whose text is all there is to tell it by (pinned by
// TestListenAnswersAnUnmaskedFrameWith1002).
func isUnmasked(err error) bool { return strings.Contains(err.Error(), "unmasked frame") }

// write is the session's only writer of the client socket. It sends what
// the fan-out puts in the client outbox, pings every PingIntervalMs, and
// ends the session after InactivityTimeoutMs without a client frame. A
// write the client does not take within WriteTimeoutMs closes the
// connection (stuck), so none of these rules waits on the client. It
// returns when the outbox is closed (after the rest of the graph finished),
// or with ctx's cause on a hard stop.
//
// Once the client is gone or being closed, messages are discarded so that
// the graph can still drain.
func (s *session) write(ctx context.Context, out *fanout.Outbox[stages.Message]) error {
	cfg := s.srv.cfg
	ioCtx := context.WithoutCancel(ctx)
	ping := time.NewTicker(time.Duration(cfg.PingIntervalMs) * time.Millisecond)
	defer ping.Stop()
	idleAfter := time.Duration(cfg.InactivityTimeoutMs) * time.Millisecond
	idle := time.NewTimer(idleAfter)
	defer idle.Stop()
	overflow := out.Overflowed()
	dead := false
	// stuck cuts off a write the client does not take within
	// WriteTimeoutMs: one timer per session, armed around each write.
	stuck := time.AfterFunc(time.Duration(cfg.WriteTimeoutMs)*time.Millisecond, s.stuck)
	stuck.Stop()
	defer stuck.Stop()
	send := func(typ websocket.MessageType, b []byte) {
		if dead {
			return
		}
		stuck.Reset(time.Duration(cfg.WriteTimeoutMs) * time.Millisecond)
		err := s.conn.Write(ioCtx, typ, b)
		stuck.Stop()
		if err != nil {
			dead = true
			_ = s.conn.CloseNow()
		}
	}
	// deliver sends one message from the fan-out: its frames, then the
	// close it asks for.
	deliver := func(msg stages.Message) {
		out, err := encodeMessage(msg)
		if err != nil {
			s.log.Error("encode client message", "err", err)
			return
		}
		for _, b := range out.frames {
			send(websocket.MessageText, b)
		}
		if out.close != 0 {
			s.closeClient(websocket.StatusCode(out.close), out.closeReason)
			dead = true
		}
	}
	if frames, err := startFrames(); err != nil {
		s.log.Error("encode client message", "err", err)
	} else {
		for _, b := range frames {
			send(websocket.MessageText, b)
		}
	}
	for {
		select {
		case <-out.Ready():
			for {
				msg, ok, closed := out.Pop()
				if closed {
					s.closeClient(websocket.StatusNormalClosure, "")
					return nil
				}
				if !ok {
					break
				}
				deliver(msg)
			}
		case <-overflow:
			overflow = nil
			s.log.Warn("client too slow; closing")
			s.closeClient(websocket.StatusTryAgainLater, "client too slow")
			dead = true
		case <-ping.C:
			send(websocket.MessageText, protocol.Ping)
		case <-idle.C:
			since := time.Since(time.Unix(0, s.lastActivity.Load()))
			if since >= idleAfter {
				s.closeClient(websocket.StatusGoingAway, "inactivity timeout")
				dead = true
				continue
			}
			idle.Reset(idleAfter - since)
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// stuck closes the connection of a client that stopped reading: a write
// to it has not completed in WriteTimeoutMs. The session ends as if the
// client had left, recorded as close 1013 (client too slow); no closing
// handshake is tried, as the client takes nothing.
func (s *session) stuck() {
	s.srv.m.writeTimeouts.Inc()
	s.closeCode.CompareAndSwap(0, int64(websocket.StatusTryAgainLater))
	s.log.Warn("client not reading; closing", "write_timeout_ms", s.srv.cfg.WriteTimeoutMs)
	_ = s.conn.CloseNow()
}
