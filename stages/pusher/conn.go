package pusher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/coder/websocket"

	wire "earshot/protocol/pusher"
	"earshot/stages"
	"earshot/stages/retry"
)

// resultReadLimit bounds a frame from the pusher (a 201 is small).
const resultReadLimit = 64 << 10

// run is the session's connection goroutine: the state machine of
// spec/pusher.md. It returns when the session is closed and everything is
// delivered and answered, LingerMs after the session closed, or when base
// ends (Shutdown); what is left then is given up.
func (s *Session) run(base context.Context) {
	ctx, cancel := context.WithCancelCause(base)
	defer cancel(nil)
	// The linger: LingerMs after the session closed, what is left is
	// given up.
	go func() {
		select {
		case <-s.closedCh:
			s.p.m.lingering.Add(1)
			t := time.AfterFunc(time.Duration(s.p.cfg.LingerMs)*time.Millisecond, func() { cancel(errLinger) })
			<-ctx.Done()
			t.Stop()
			s.p.m.lingering.Add(-1)
		case <-ctx.Done():
		}
	}()
	state := StateConnecting
	s.p.m.states[state].Add(1)
	setState := func(st State) {
		s.p.m.states[state].Add(-1)
		s.p.m.states[st].Add(1)
		state = st
	}
	defer func() { s.p.m.states[state].Add(-1) }()

	gen := 0
	for {
		if s.done() {
			return
		}
		conn, err := s.connect(ctx, gen > 0, setState)
		if err != nil {
			s.log.Debug("pusher session ends without a connection", "err", context.Cause(ctx))
			s.abandon()
			return
		}
		gen++
		setState(StateConnected)
		err = s.serve(ctx, conn, &connState{gen: gen})
		if err == nil {
			_ = conn.Close(websocket.StatusNormalClosure, "")
			return
		}
		_ = conn.CloseNow()
		s.lostAt = time.Now()
		if ctx.Err() != nil {
			s.abandon()
			return
		}
		s.p.m.connects("lost").Inc()
		s.log.Info("pusher connection lost; reconnecting", "err", err)
		setState(StateReconnectBackoff)
	}
}

// connect dials until connected: a few attempts with backoff, then
// DEGRADED for the cool-down and one HALF_OPEN probe, again and again,
// every dial through the process-wide breaker. It fails only when ctx
// is done, or when the session is over and nothing is left to deliver.
func (s *Session) connect(ctx context.Context, reconnect bool, setState func(State)) (*websocket.Conn, error) {
	opts := retry.Options{Backoff: s.p.cfg.Reconnect, Rand: s.p.deps.Rand, Breaker: s.p.breaker, FirstIsRetry: reconnect}
	conn, err := retry.Connect(ctx, s.dial, opts)
	for err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		s.p.m.connects("failed").Inc()
		setState(StateDegraded)
		s.log.Warn("pusher unreachable; degraded", "err", err,
			"cooldown_ms", s.p.cfg.DegradedCooldownMs)
		if err := retry.Wait(ctx, time.Duration(s.p.cfg.DegradedCooldownMs)*time.Millisecond); err != nil {
			return nil, err
		}
		if s.done() {
			return nil, errors.New("nothing left to deliver")
		}
		setState(StateHalfOpenProbe)
		probe := opts
		probe.Backoff.Attempts = 1
		conn, err = retry.Connect(ctx, s.dial, probe)
	}
	s.p.m.connects("ok").Inc()
	return conn, nil
}

// dial makes one connection attempt; a refused upgrade is an
// *stages.UpstreamError classified by its status (and Retry-After).
func (s *Session) dial(ctx context.Context) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, time.Duration(s.p.cfg.DialTimeoutMs)*time.Millisecond)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, s.url, nil)
	if err != nil {
		if ctx.Err() != nil {
			return nil, stages.Aborted(ctx)
		}
		ue := &stages.UpstreamError{Reason: "pusher unreachable", Err: err}
		if resp != nil {
			ue.HTTPStatus = resp.StatusCode
			ue.Reason = "pusher refused: " + http.StatusText(resp.StatusCode)
			ue.RetryAfter = retry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
			if resp.Body != nil {
				_ = resp.Body.Close()
			}
		}
		return nil, ue
	}
	conn.SetReadLimit(resultReadLimit)
	return conn, nil
}

// serve is CONNECTED: it writes what is due every FlushIntervalMs (and
// at once when the session closes), a heartbeat every HeartbeatMs, and
// reads the pusher's answers. It returns nil when the session is over and
// all is delivered and answered, else the error that lost the
// connection.
func (s *Session) serve(ctx context.Context, conn *websocket.Conn, c *connState) error {
	ioCtx := context.WithoutCancel(ctx)
	stopConn := context.AfterFunc(ctx, func() { _ = conn.CloseNow() })
	defer stopConn()
	readErr, readDone := make(chan error, 1), make(chan struct{})
	go func() {
		defer close(readDone)
		readErr <- s.readAnswers(ioCtx, conn)
	}()
	defer func() {
		_ = conn.CloseNow()
		<-readDone
	}()

	flush := time.NewTicker(time.Duration(s.p.cfg.FlushIntervalMs) * time.Millisecond)
	defer flush.Stop()
	beat := time.NewTicker(time.Duration(s.p.cfg.HeartbeatMs) * time.Millisecond)
	defer beat.Stop()
	closed := s.closedCh
	write := func(b []byte) error {
		wctx, cancel := context.WithTimeout(ioCtx, time.Duration(s.p.cfg.WriteTimeoutMs)*time.Millisecond)
		defer cancel()
		if err := conn.Write(wctx, websocket.MessageBinary, b); err != nil {
			return fmt.Errorf("pusher write: %w", err)
		}
		s.mu.Lock()
		s.st.SentBytes += int64(len(b))
		s.mu.Unlock()
		s.p.m.sentBytes.Add(len(b))
		s.keep(b)
		return nil
	}
	// What the last connection may have lost in flight, first.
	for _, f := range s.resendable() {
		if err := write(f.b); err != nil {
			return err
		}
		s.mu.Lock()
		s.st.ResentBytes += int64(len(f.b))
		s.mu.Unlock()
		s.p.m.resentBytes.Add(len(f.b))
	}
	send := func() error {
		for {
			f, err := s.nextFrame(c, time.Now())
			if err != nil {
				return err
			}
			if f == nil {
				return nil
			}
			if err := write(f); err != nil {
				return err
			}
		}
	}
	if err := send(); err != nil { // what waited, and the requests again
		return err
	}
	for {
		if s.done() {
			return nil
		}
		select {
		case <-flush.C:
			if err := send(); err != nil {
				return err
			}
		case <-closed:
			closed = nil
			if err := send(); err != nil {
				return err
			}
		case <-s.answered:
		case <-beat.C:
			if err := write(wire.AppendFrame(nil, wire.KindHeartbeat, nil)); err != nil {
				return err
			}
		case err := <-readErr:
			return fmt.Errorf("pusher read: %w", err)
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// readAnswers reads the pusher's frames until the connection ends and
// takes the 201s; anything else is ignored.
func (s *Session) readAnswers(ctx context.Context, conn *websocket.Conn) error {
	for {
		typ, b, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		if typ != websocket.MessageBinary {
			continue
		}
		kind, payload, err := wire.Parse(b)
		if err != nil || kind != wire.KindResult {
			continue
		}
		var res wire.Result
		if json.Unmarshal(payload, &res) != nil || res.ConversationID == "" {
			continue
		}
		if s.answer(res, time.Now()) {
			select {
			case s.answered <- struct{}{}:
			default:
			}
		}
	}
}

// keep records a written frame for a resend after a reconnect (not
// heartbeats, which say nothing, nor 104s, which stay pending until
// answered anyway) and forgets frames older than ResendMs.
func (s *Session) keep(b []byte) {
	if s.p.cfg.ResendMs < 0 {
		return
	}
	now := time.Now()
	if kind, _, err := wire.Parse(b); err == nil && kind != wire.KindHeartbeat && kind != wire.KindProcess {
		s.tail = append(s.tail, sentFrame{at: now, b: b})
	}
	s.tail = s.tail[s.expired(now):]
}

// expired is how many of the tail's frames are older than ResendMs at t.
func (s *Session) expired(t time.Time) int {
	limit := t.Add(-time.Duration(s.p.cfg.ResendMs) * time.Millisecond)
	n := 0
	for n < len(s.tail) && s.tail[n].at.Before(limit) {
		n++
	}
	return n
}

// resendable takes the frames written within ResendMs before the last
// connection was lost (none on a first connection).
func (s *Session) resendable() []sentFrame {
	if s.lostAt.IsZero() || len(s.tail) == 0 {
		return nil
	}
	out := s.tail[s.expired(s.lostAt):]
	s.tail = nil
	return out
}
