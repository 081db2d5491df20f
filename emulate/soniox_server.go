package emulate

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// SonioxPath is the path of Soniox's real-time endpoint, served by a
// ProtocolSoniox Server.
const SonioxPath = "/transcribe-websocket"

// sonioxKeyProtocol is the first subprotocol of a browser's Soniox
// credentials: "Sec-WebSocket-Protocol: soniox-api-key, <key>".
const sonioxKeyProtocol = "soniox-api-key"

// serveSoniox runs one Soniox upgrade attempt and, if accepted, the whole
// stream. The handshake checks are the Deepgram front end's, in the same
// order (delay, fault refusal, auth); the start message, which carries
// what Deepgram's query carries, is checked after the upgrade.
func (s *Server) serveSoniox(w http.ResponseWriter, r *http.Request) {
	attempt := s.attempts.Add(1)
	id := newRequestID()
	log := s.log.With("request_id", id, "protocol", ProtocolSoniox)
	shutdown := sonioxRefusal{status: http.StatusServiceUnavailable}
	if !s.enter() {
		s.refuseSoniox(w, id, shutdown)
		return
	}
	defer s.wg.Done()

	f := s.cfg.Faults
	switch s.handshakeDelay(r, log) {
	case delayClientGone:
		return
	case delayShutdown:
		s.refuseSoniox(w, id, shutdown)
		return
	}
	if attempt <= int64(f.RefuseFirst) {
		log.Info("emulate: refusing upgrade (fault)", "status", f.RefuseStatus, "attempt", attempt)
		s.refuseSoniox(w, id, sonioxRefusal{status: f.RefuseStatus, retryAfterSec: f.RetryAfterSec})
		return
	}
	if s.cfg.APIKey != "" && !sonioxAuthorized(r, s.cfg.APIKey) {
		log.Info("emulate: refusing upgrade: bad credentials")
		s.refuseSoniox(w, id, sonioxRefusal{status: http.StatusUnauthorized})
		return
	}

	// Counted before Accept sends 101, as on the Deepgram side.
	s.accepted.Add(1)
	s.active.Add(1)
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:       []string{sonioxKeyProtocol},
		InsecureSkipVerify: true, // auth is by key, not by origin
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil { // Accept has answered the request itself
		s.accepted.Add(-1)
		s.active.Add(-1)
		s.refused.Add(1)
		log.Info("emulate: upgrade failed", "err", err)
		return
	}
	conn.SetReadLimit(readLimitBytes)
	log.Info("emulate: stream opened")
	s.runSoniox(newSonioxStream(s, conn, id, log), log)
}

// runSoniox serves an accepted stream until it ends, then closes its
// recognizer (if one was made), leaves Stats.Active and calls OnStreamEnd.
func (s *Server) runSoniox(st *sonioxStream, log *slog.Logger) {
	end := st.run()
	st.sum.End, st.sum.Ended = end, time.Now()
	if st.rec != nil {
		closeRecognizer(st.rec, log)
	}
	s.active.Add(-1)
	audioSec := 0.0
	if st.start != nil {
		audioSec = float64(st.samples) / float64(st.start.rateHz)
	}
	log.Info("emulate: stream ended", "end", end, "audio_bytes", st.sum.AudioBytes,
		"audio_sec", fmt.Sprintf("%.3f", audioSec),
		"keepalives", st.sum.KeepAlives, "finalizes", st.sum.Finalizes)
	if s.cfg.OnStreamEnd != nil {
		s.cfg.OnStreamEnd(st.sum)
	}
}

// sonioxRefusal is a refused Soniox upgrade: an HTTP error whose JSON body
// has the fields of Soniox's error response, {"error_code", "error_message",
// "request_id"}.
type sonioxRefusal struct {
	status        int
	retryAfterSec int // > 0 adds Retry-After
}

func (s *Server) refuseSoniox(w http.ResponseWriter, id string, rf sonioxRefusal) {
	s.refused.Add(1)
	body, err := json.Marshal(newSonioxError(rf.status, sonioxMessage(rf.status), id))
	if err != nil { // cannot happen: an int and strings
		body = []byte(`{}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if rf.retryAfterSec > 0 {
		h.Set("Retry-After", strconv.Itoa(rf.retryAfterSec))
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rf.status)
	_, _ = w.Write(body)
}

// sonioxMessage is the error_message of a refusal or an in-stream error
// with status code.
func sonioxMessage(code int) string {
	switch code {
	case http.StatusBadRequest:
		return "Bad request."
	case http.StatusUnauthorized:
		return "Invalid or missing API key. Send it as \"Authorization: Bearer <key>\"."
	case http.StatusPaymentRequired:
		return "Payment required: the organization's balance is exhausted."
	case http.StatusRequestTimeout:
		return "Request timeout."
	case http.StatusTooManyRequests:
		return "Too many requests. Please try again later."
	}
	if code >= 500 {
		return "The service is temporarily unavailable. Please try again later."
	}
	return http.StatusText(code)
}

// sonioxAuthorized reports whether r carries key as Soniox takes it:
// "Authorization: Bearer <key>" (scheme case-insensitive) or the browser
// form "Sec-WebSocket-Protocol: soniox-api-key, <key>". The comparison
// takes constant time. The start message's deprecated api_key member is
// not accepted.
func sonioxAuthorized(r *http.Request, key string) bool {
	if scheme, cred, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " "); ok {
		return strings.EqualFold(scheme, "bearer") && equalKey(strings.TrimSpace(cred), key)
	}
	var protos []string
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			protos = append(protos, strings.TrimSpace(p))
		}
	}
	return len(protos) >= 2 && protos[0] == sonioxKeyProtocol && equalKey(protos[1], key)
}
