package record

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/VictoriaMetrics/metrics"
	"github.com/coder/websocket"

	"earshot/protocol/pusher"
)

// writeTimeout bounds sending one 201; a sender that does not take it in
// time loses its connection (it re-sends the 104 after reconnecting).
const writeTimeout = 10 * time.Second

// Recorder is a receiver of the pusher protocol that stores each
// conversation's audio, segments and speaker samples under Config.Dir
// (see the package doc). It is an http.Handler serving
//
//   - GET /v1/trigger/listen (pusher.Path): the pusher WebSocket;
//   - GET /healthz: 200 "ok", 503 once closed;
//   - GET /metrics: the Deps.Metrics set and process metrics, in
//     Prometheus text.
//
// Every connection runs on its HTTP handler's goroutine (the upgrade
// hijacks the connection); the Recorder tracks them and Close ends and
// waits for them. A Recorder is safe for concurrent use.
type Recorder struct {
	cfg   Config
	log   *slog.Logger
	set   *metrics.Set
	m     *recMetrics
	store *store
	mux   *http.ServeMux

	mu     sync.Mutex // guards closed, conns and wg.Add against Close
	closed bool
	conns  map[*websocket.Conn]struct{}
	wg     sync.WaitGroup
}

// New validates cfg (errors wrap ErrBadConfig), creates cfg.Dir and its
// staging directory when missing, repairs what a previous process left
// there (torn writes, a finish cut short; see the package doc) and
// returns a Recorder. Conversations staged by a previous process are
// resumed when a connection names them again; finished ones are answered
// from disk. The caller serves the Recorder and must Close it.
func New(cfg Config, deps Deps) (*Recorder, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	deps = deps.withDefaults()
	r := &Recorder{
		cfg:   cfg,
		log:   deps.Logger,
		set:   deps.Metrics,
		m:     newMetrics(deps.Metrics),
		store: newStore(cfg.Dir, cfg.MaxGapSec, deps.Logger),
		mux:   http.NewServeMux(),
		conns: map[*websocket.Conn]struct{}{},
	}
	rc, err := r.store.recover()
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	if rc != (recovered{}) {
		r.log.Info("record: recovered the staging directory", "dir", cfg.Dir,
			"staged", rc.staged, "committed", rc.committed, "skipped", rc.skipped)
	}
	r.mux.HandleFunc("GET "+pusher.Path, r.handleListen)
	r.mux.HandleFunc("GET /healthz", r.handleHealth)
	r.mux.HandleFunc("GET /metrics", r.handleMetrics)
	return r, nil
}

// ServeHTTP routes a request; other paths are 404.
func (r *Recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.mux.ServeHTTP(w, req) }

// Close refuses new connections (503), closes every open one with 1001
// ("going away") and waits for their goroutines. A conversation being
// finished when Close is called is finished first (its 201 may not reach
// the sender, which re-sends the 104 to the next process). A peer that
// does not answer the close frame holds Close for about 5 s (the
// library's bound). Close is idempotent and returns nil.
func (r *Recorder) Close() error {
	r.mu.Lock()
	r.closed = true
	conns := make([]*websocket.Conn, 0, len(r.conns))
	for c := range r.conns {
		conns = append(conns, c)
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { _ = c.Close(websocket.StatusGoingAway, "recorder closing") })
	}
	wg.Wait()
	r.wg.Wait()
	return nil
}

// enter registers a connection attempt with Close; false once closed.
func (r *Recorder) enter() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Add(1)
	return true
}

// track adds an accepted connection for Close; false once closed.
func (r *Recorder) track(c *websocket.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *Recorder) untrack(c *websocket.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.conns, c)
}

func (r *Recorder) handleHealth(w http.ResponseWriter, _ *http.Request) {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

func (r *Recorder) handleMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	r.set.WritePrometheus(w)
	metrics.WriteProcessMetrics(w)
}

// handleListen validates the query, upgrades, and runs the connection:
// messages are handled one at a time, in order, and answered on the
// same goroutine.
func (r *Recorder) handleListen(w http.ResponseWriter, req *http.Request) {
	who, err := parseQuery(req.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !r.enter() {
		http.Error(w, "recorder closing", http.StatusServiceUnavailable)
		return
	}
	defer r.wg.Done()
	log := r.log.With("uid_hash", uidHash(who.uid), "sample_rate", who.rate, "remote", req.RemoteAddr)
	c, err := websocket.Accept(w, req, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		log.Debug("record: upgrade failed", "err", err)
		return
	}
	defer c.CloseNow()
	if !r.track(c) {
		_ = c.Close(websocket.StatusGoingAway, "recorder closing")
		return
	}
	defer r.untrack(c)
	c.SetReadLimit(int64(r.cfg.MaxFrameBytes))
	r.m.connections.Inc()
	defer r.m.connections.Dec()
	s := newSession(r, who, log)
	defer s.close()
	log.Info("record: connection opened")

	// The request's context ends with the hijack: the connection lives
	// until the peer or Close ends it, so reads get a context that never
	// expires (an expiring one would close the connection).
	ctx := context.WithoutCancel(req.Context())
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			log.Info("record: connection closed", "close_status", int(websocket.CloseStatus(err)))
			return
		}
		reply := s.handle(typ == websocket.MessageBinary, data)
		if reply == nil {
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		err = c.Write(wctx, websocket.MessageBinary, reply)
		cancel()
		if err != nil {
			log.Info("record: answering a 104 failed; closing", "err", err)
			return
		}
	}
}

// parseQuery validates the upgrade's uid and sample_rate (errors wrap
// ErrBadQuery).
func parseQuery(q url.Values) (who, error) {
	uid := q.Get("uid")
	if uid == "" || len(uid) > MaxUIDBytes || !utf8.ValidString(uid) {
		return who{}, fmt.Errorf("%w: uid must be 1 to %d bytes of UTF-8", ErrBadQuery, MaxUIDBytes)
	}
	rate, err := strconv.Atoi(q.Get("sample_rate"))
	if err != nil || rate < MinSampleRate || rate > MaxSampleRate {
		return who{}, fmt.Errorf("%w: sample_rate must be an integer from %d to %d", ErrBadQuery, MinSampleRate, MaxSampleRate)
	}
	return who{uid: uid, rate: rate}, nil
}

// uidHash is the first 8 hex digits of uid's SHA-256: enough to follow
// one user's connections in the logs without naming them.
func uidHash(uid string) string {
	sum := sha256.Sum256([]byte(uid))
	return hex.EncodeToString(sum[:4])
}
