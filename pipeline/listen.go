package pipeline

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"earshot/protocol"
)

// handleListen authenticates and validates a /v4/listen request, upgrades
// it, and runs the session until it ends. Bad keys and bad parameters are
// refused before any upstream work: the WebSocket is accepted only to close
// it with 1008 (1003 for an audio format the server cannot decode) and a
// reason, as Omi's clients expect.
func (s *Server) handleListen(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		s.m.rejected.Inc()
		http.Error(w, ErrDraining.Error(), http.StatusServiceUnavailable)
		return
	}
	ip := host(r.RemoteAddr)
	if wait, blocked := s.refusals.blocked(ip, time.Now()); blocked {
		s.m.throttled.Inc()
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		http.Error(w, "too many refused handshakes; try again later", http.StatusTooManyRequests)
		return
	}
	key, authErr := s.keys.check(r.Header.Get("Authorization"))
	params, paramErr := ParseParams(r.URL.Query(), s.cfg.Languages)

	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		s.m.rejected.Inc()
		s.log.Debug("listen upgrade failed", "err", err)
		return
	}
	defer conn.CloseNow()

	if err := errors.Join(authErr, paramErr); err != nil {
		s.m.rejected.Inc()
		reason, code := err.Error(), websocket.StatusPolicyViolation
		var pe *ParamError
		switch {
		case authErr != nil:
			reason = authErr.Error()
		case errors.As(paramErr, &pe):
			code = websocket.StatusCode(pe.CloseCode())
		}
		s.m.closed(int(code))
		if authErr != nil {
			s.refusals.failed(ip, reason, time.Now())
		} else {
			s.log.Info("listen refused", "reason", reason, "code", int(code), "remote", r.RemoteAddr)
		}
		_ = conn.Close(code, closeReason(reason))
		return
	}
	conn.SetReadLimit(s.cfg.ReadLimitBytes)

	sess := newSession(s, conn, params, key)
	if err := s.add(sess); err != nil {
		s.m.rejected.Inc()
		if errors.Is(err, ErrTooManySessions) {
			s.m.refusedBusy.Inc()
			s.m.closed(int(websocket.StatusTryAgainLater))
			_ = conn.Close(websocket.StatusTryAgainLater, err.Error())
			return
		}
		_ = conn.Close(websocket.StatusServiceRestart, "service restart")
		return
	}
	defer s.remove(sess)
	sess.run(s.base)
}

// closeReason keeps a close reason within the bytes a close frame allows
// (protocol.MaxCloseReasonBytes), cutting at a rune boundary.
func closeReason(s string) string {
	const limit = protocol.MaxCloseReasonBytes
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut]
}
