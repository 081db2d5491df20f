package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"earshot/auth"
	"earshot/protocol"
)

// handleListen serves /v4/listen: the client authenticates with its
// Authorization header.
func (s *Server) handleListen(w http.ResponseWriter, r *http.Request) { s.serveListen(w, r, false) }

// handleWebListen serves /v4/web/listen for browsers, which cannot set
// headers: the client authenticates with its first text message (see
// webAuth); the rest is the /v4/listen session.
func (s *Server) handleWebListen(w http.ResponseWriter, r *http.Request) { s.serveListen(w, r, true) }

// serveListen authenticates and validates a listen request, upgrades it,
// and runs the session until it ends. Bad keys or tokens and bad
// parameters are refused before any upstream work: the WebSocket is
// accepted only to close it with 1008 (1003 for an audio format the server
// cannot decode, 4001 for an expired token) and a reason, as Omi's clients
// expect. A browser's Origin must be the server's own or match
// Config.AllowedOrigins (else 403 before the upgrade).
func (s *Server) serveListen(w http.ResponseWriter, r *http.Request, web bool) {
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
	params, paramErr := ParseParams(r.URL.Query(), s.cfg.Languages)
	if paramErr == nil && params.Channels > s.cfg.MaxChannels {
		paramErr = badParam("channels must be 1 to %d, got %d", s.cfg.MaxChannels, params.Channels)
	}
	var (
		who     principal
		authErr error
	)
	if !web {
		var token string
		if token, authErr = bearer(r.Header.Get("Authorization")); authErr == nil {
			who, authErr = s.authenticate(r.Context(), token)
		}
	}

	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		CompressionMode: websocket.CompressionDisabled,
		OriginPatterns:  s.cfg.AllowedOrigins,
	})
	if err != nil {
		s.m.rejected.Inc()
		s.log.Debug("listen upgrade failed", "err", err)
		return
	}
	defer conn.CloseNow()

	if err := errors.Join(authErr, paramErr); err != nil {
		s.refuse(conn, ip, r.RemoteAddr, authErr, paramErr)
		return
	}
	conn.SetReadLimit(s.cfg.ReadLimitBytes)
	if web {
		who, err = s.webAuth(conn)
		if err != nil {
			if errors.Is(err, ErrBadAuth) || errors.Is(err, ErrTokenExpired) || errors.Is(err, ErrAuthTimeout) {
				s.refuse(conn, ip, r.RemoteAddr, err, nil)
			}
			return
		}
	}
	if !who.signed && params.UID != "" {
		// A static key's session belongs to the uid the client claims.
		who.user, who.userHash = params.UID, auth.Identity{Subject: params.UID}.Hash()
	}

	sess := newSession(s, conn, params, who)
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

// refuse closes an accepted connection that failed authentication
// (authErr) or validation (paramErr) with the code and reason the client
// acts on, and counts it. An authentication failure also counts against
// the client's address in the refusal throttle. Auth timeouts arrive
// here already closed.
func (s *Server) refuse(conn *websocket.Conn, ip, remote string, authErr, paramErr error) {
	s.m.rejected.Inc()
	var (
		reason string
		code   = websocket.StatusPolicyViolation
		pe     *ParamError
	)
	switch {
	case authErr != nil:
		reason, code = authErr.Error(), websocket.StatusCode(authCloseCode(authErr))
	case errors.As(paramErr, &pe):
		reason, code = pe.Error(), websocket.StatusCode(pe.CloseCode())
	default:
		reason = paramErr.Error()
	}
	s.m.closed(int(code))
	if authErr != nil {
		s.refusals.failed(ip, reason, time.Now())
	} else {
		s.log.Info("listen refused", "reason", reason, "code", int(code), "remote", remote)
	}
	if errors.Is(authErr, ErrAuthTimeout) {
		return
	}
	_ = conn.Close(code, closeReason(reason))
}

// webAuth reads a browser's first message, {"type":"auth","token":...},
// within AuthTimeoutMs, checks the token as a bearer token and answers
// {"type":"auth_response","success":...}. It returns the principal, or
// ErrAuthTimeout (the session already closed with 1008 "Auth timeout"),
// ErrBadAuth for a message that is not an auth message or a token not
// accepted, ErrTokenExpired, or the read error when the client left.
func (s *Server) webAuth(conn *websocket.Conn) (principal, error) {
	ctx := context.WithoutCancel(s.base)
	closed := make(chan struct{})
	timer := time.AfterFunc(time.Duration(s.cfg.AuthTimeoutMs)*time.Millisecond, func() {
		defer close(closed)
		_ = conn.Close(websocket.StatusPolicyViolation, ErrAuthTimeout.Error())
	})
	typ, data, err := conn.Read(ctx)
	if !timer.Stop() {
		<-closed
		return principal{}, ErrAuthTimeout
	}
	if err != nil {
		return principal{}, err
	}
	var msg protocol.Auth
	if typ != websocket.MessageText || json.Unmarshal(data, &msg) != nil || msg.Type != protocol.TypeAuth || msg.Token == "" {
		s.m.controlMessage(controlOther)
		err = ErrBadAuth
	}
	var who principal
	if err == nil {
		s.m.controlMessage(protocol.TypeAuth)
		who, err = s.authenticate(ctx, msg.Token)
	}
	b, merr := json.Marshal(protocol.AuthResponse{Type: protocol.TypeAuthResponse, Success: err == nil})
	if merr == nil {
		_ = conn.Write(ctx, websocket.MessageText, b)
	}
	return who, err
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
