package emulate

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// readLimitBytes bounds one client message; a bigger one closes the stream
// with 1009. Deepgram advises 20–250 ms frames (16 kB at 32 kHz, 250 ms).
const readLimitBytes = 1 << 20

// Server speaks Deepgram's live-transcription protocol on GET /v1/listen,
// or Soniox's real-time protocol on GET /transcribe-websocket (see
// Config.Protocol).
//
// Every stream runs on the goroutine of its HTTP handler (after the upgrade
// hijacks the connection) plus one reader goroutine; the Server owns both
// and Close waits for them. A Server is safe for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux

	mu     sync.Mutex // guards closed and wg.Add against Close
	closed bool
	stop   chan struct{} // closed by Close
	wg     sync.WaitGroup

	attempts, refused, accepted, active atomic.Int64
	opened                              atomic.Int64 // streams opened, for Faults.DropStreams
}

// NewServer validates cfg (errors wrap ErrBadConfig) and returns a Server. A
// nil logger discards logs. The Server logs neither the API key nor audio.
func NewServer(cfg Config, logger *slog.Logger) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: logger, mux: http.NewServeMux(), stop: make(chan struct{})}
	if cfg.Protocol == ProtocolSoniox {
		s.mux.HandleFunc("GET "+SonioxPath, s.serveSoniox)
	} else {
		s.mux.HandleFunc("GET /v1/listen", s.serveListen)
	}
	return s, nil
}

// Handler serves GET /v1/listen (ProtocolSoniox: GET SonioxPath); any other
// path is 404 (another method on that path is 405).
func (s *Server) Handler() http.Handler { return s.mux }

// Stats returns a snapshot of the server-wide counters.
func (s *Server) Stats() Stats {
	return Stats{
		UpgradeAttempts: s.attempts.Load(),
		Refused:         s.refused.Load(),
		Accepted:        s.accepted.Load(),
		Active:          s.active.Load(),
	}
}

// Close ends every stream (Metadata, then close 1001 ReasonShutdown;
// ProtocolSoniox: the error response 503 SonioxShutdownMessage, then close
// 1001 ReasonShutdown), aborts
// pending handshake delays with 503, refuses later upgrades with 503, and
// waits for every stream's goroutines and OnStreamEnd calls. A client that
// does not answer the close frame can hold Close for about 5 s (the
// library's close handshake bound). Close is idempotent and returns nil.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// enter registers a request with Close; it reports false once closed.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Server) refuse(w http.ResponseWriter, id string, rf refusal) {
	s.refused.Add(1)
	rf.write(w, id)
}

// serveListen runs one upgrade attempt and, if accepted, the whole stream.
func (s *Server) serveListen(w http.ResponseWriter, r *http.Request) {
	attempt := s.attempts.Add(1)
	id := newRequestID()
	log := s.log.With("request_id", id)
	shutdown := refusal{status: http.StatusServiceUnavailable, code: errorCode(http.StatusServiceUnavailable), msg: "The server is shutting down."}
	if !s.enter() {
		s.refuse(w, id, shutdown)
		return
	}
	defer s.wg.Done()

	f := s.cfg.Faults
	switch s.handshakeDelay(r, log) {
	case delayClientGone:
		return
	case delayShutdown:
		s.refuse(w, id, shutdown)
		return
	}
	if attempt <= int64(f.RefuseFirst) {
		log.Info("emulate: refusing upgrade (fault)", "status", f.RefuseStatus, "attempt", attempt)
		s.refuse(w, id, faultRefusal(f))
		return
	}
	if s.cfg.APIKey != "" && !authorized(r, s.cfg.APIKey) {
		log.Info("emulate: refusing upgrade: bad credentials")
		s.refuse(w, id, refusal{status: http.StatusUnauthorized, code: errorCode(401), msg: errorMessage(401)})
		return
	}
	p, err := parseParams(r.URL.Query())
	if err != nil {
		log.Info("emulate: refusing upgrade: bad params", "err", err)
		msg := strings.TrimPrefix(err.Error(), ErrBadParams.Error()+": ")
		s.refuse(w, id, refusal{status: http.StatusBadRequest, code: errorCode(400), msg: msg})
		return
	}

	rec, ok := s.openRecognizer(w, id, p.sampleRateHz, log)
	if !ok {
		return
	}

	w.Header().Set("dg-request-id", id)
	// Count the stream before Accept sends 101, so that a client that has
	// its connection already sees it in Stats; undo if Accept fails.
	s.accepted.Add(1)
	s.active.Add(1)
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// Browsers authenticate with "Sec-WebSocket-Protocol: token, <key>".
		Subprotocols: []string{"token"},
		// Deepgram serves any origin: auth is by key, not by origin.
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil { // Accept has answered the request itself
		s.accepted.Add(-1)
		s.active.Add(-1)
		s.refused.Add(1)
		log.Info("emulate: upgrade failed", "err", err)
		closeRecognizer(rec, log)
		return
	}
	conn.SetReadLimit(readLimitBytes)
	log.Info("emulate: stream opened", "sample_rate", p.sampleRateHz, "model", p.model)

	st := newStream(s, conn, id, r.URL.Query(), p, rec, log)
	end := st.run()
	st.sum.End, st.sum.Ended = end, time.Now()
	closeRecognizer(rec, log)
	s.active.Add(-1)
	log.Info("emulate: stream ended", "end", end, "audio_bytes", st.sum.AudioBytes,
		"audio_sec", fmt.Sprintf("%.3f", float64(st.samples)/float64(p.sampleRateHz)),
		"keepalives", st.sum.KeepAlives, "finalizes", st.sum.Finalizes)
	if s.cfg.OnStreamEnd != nil {
		s.cfg.OnStreamEnd(st.sum)
	}
}

// delayOutcome is how a handshake delay (Faults.HandshakeDelayMs) ended.
type delayOutcome int

const (
	delayDone       delayOutcome = iota // waited: answer the upgrade
	delayClientGone                     // the client left: answer nothing
	delayShutdown                       // the server is closing: refuse
)

// handshakeDelay waits Faults.HandshakeDelayMs (if set) before an
// upgrade is answered, for either front end.
func (s *Server) handshakeDelay(r *http.Request, log *slog.Logger) delayOutcome {
	d := s.cfg.Faults.HandshakeDelayMs
	if d <= 0 {
		return delayDone
	}
	t := time.NewTimer(ms(d))
	defer t.Stop()
	select {
	case <-t.C:
		return delayDone
	case <-r.Context().Done():
		log.Debug("emulate: client left during handshake delay")
		return delayClientGone
	case <-s.stop:
		return delayShutdown
	}
}
