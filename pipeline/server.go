package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
	"github.com/coder/websocket"

	"earshot/internal/chunks"
	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/gate"
	"earshot/stages/ingest"
	"earshot/stages/pusher"
	"earshot/stages/retry"
)

// Server is a listen gateway. It serves:
//
//   - GET /v4/listen: the client WebSocket (spec/listen-protocol.md);
//   - GET /v4/web/listen: the same for browsers, authenticated by their
//     first message instead of a header;
//   - GET /metrics: Prometheus text of the server's own metrics set;
//   - GET /healthz: 200 while the process serves HTTP;
//   - GET /readyz: 200 while it takes sessions (503 while draining).
//
// A Server is safe for concurrent use. Sessions run on contexts derived
// from the Server's base context, never from a request's.
type Server struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	keys *keyring
	// refusals throttles refused handshakes per client address.
	refusals *throttle
	m        *serverMetrics
	up       upstream
	mux      *http.ServeMux
	// pusher is the downstream pusher sink's process-wide part, nil
	// without Config.Pusher.URL.
	pusher *pusher.Pusher

	base     context.Context
	hardStop context.CancelCauseFunc
	draining atomic.Bool

	mu       sync.Mutex
	sessions map[*session]struct{}
	perKey   map[string]int // sessions by principal.limitKey
	rings    int            // replay rings of the sessions: one per channel
	wg       sync.WaitGroup // one per running session
}

// ErrHardStop is the cause given to sessions cut off by Shutdown when its
// context ends before they finished.
var ErrHardStop = errors.New("server stopped before the session drained")

// New returns a Server. It fails if deps.Provider is nil, cfg.Gate is
// invalid (the error wraps gate.ErrConfig) or the build lacks
// cfg.OpusDecoder (ingest.ErrNoOpusDecoder).
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.Provider == nil {
		return nil, ErrNoProvider
	}
	if err := ingest.CheckOpusDecoder(cfg.OpusDecoder); err != nil {
		return nil, err
	}
	if err := cfg.Gate.Validate(); err != nil {
		return nil, fmt.Errorf("gate: %w", err)
	}
	if deps.Chunks == nil {
		deps.Chunks = chunks.New(chunks.DefaultChunkBytes, chunks.DefaultKeepFreeBytes)
	}
	if deps.Metrics == nil {
		deps.Metrics = metrics.NewSet()
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.NewDetector == nil && cfg.Gate.Mode != "" && cfg.Gate.Mode != gate.Off {
		deps.Logger.Warn("vad gate mode set but no speech detector; every session's gate is off",
			"mode", string(cfg.Gate.Mode))
	}
	base, cancel := context.WithCancelCause(context.Background())
	cfg = cfg.withDefaults()
	deps.Chunks.SetBudget(cfg.ReplayBudgetBytes)
	s := &Server{
		cfg:  cfg,
		deps: deps,
		log:  deps.Logger,
		keys: newKeyring(cfg.APIKeys),
		// The bucket lets Burst-1 reservations through free: the
		// Burst-th refusal is the one that starts the throttle.
		refusals: newThrottle(retry.BudgetConfig{
			RatePerSec: cfg.FailedHandshakesPerSec, Burst: cfg.FailedHandshakeBurst - 1,
		}, deps.Logger),
		m: newServerMetrics(deps.Metrics, deps.Chunks),
		up: upstream{
			budget: retry.NewBudget(cfg.Budget, deps.Metrics),
		},
		mux:      http.NewServeMux(),
		base:     base,
		hardStop: cancel,
		sessions: map[*session]struct{}{},
		perKey:   map[string]int{},
	}
	if cfg.Pusher.URL != "" {
		p, err := pusher.New(cfg.Pusher, pusher.Deps{
			Logger: deps.Logger, Metrics: deps.Metrics, EncodeSegments: encodeSegments,
		})
		if err != nil {
			return nil, err
		}
		s.pusher = p
	}
	// Every session's chain: the provider, then the fallbacks, each with
	// its breaker and price.
	{
		s.up.chain = []connector.Link{link(cfg, connector.Link{Provider: deps.Provider, Breaker: retry.NewBreaker(deps.Provider.Name(), cfg.Breaker, deps.Metrics)})}
		seen := map[string]bool{deps.Provider.Name(): true}
		for _, l := range deps.Fallbacks {
			name := l.Provider.Name()
			if seen[name] {
				return nil, fmt.Errorf("%w: %q twice in the chain", ErrNoProvider, name)
			}
			seen[name] = true
			l.Breaker = retry.NewBreaker(name, cfg.Breaker, deps.Metrics)
			s.up.chain = append(s.up.chain, link(cfg, l))
		}
	}
	deps.Metrics.NewGauge(`earshot_sessions_limit`, func() float64 { return float64(s.cfg.MaxSessions) })
	s.mux.HandleFunc("GET /v4/listen", s.handleListen)
	s.mux.HandleFunc("GET /v4/web/listen", s.handleWebListen)
	s.mux.HandleFunc("GET /metrics", s.handleMetrics)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /readyz", s.handleReady)
	return s, nil
}

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Ready reports why the server should not be sent sessions, or nil: it is
// draining, or its upstream's latest dial was refused permanently (bad key,
// no credit) and none succeeded since, as the upstream's process-wide
// circuit breaker records it (retry.Breaker.Broken); with a chain of
// providers, every one of them. Sessions are still accepted in the
// second case, so that a fixed upstream is noticed.
func (s *Server) Ready() error {
	if s.draining.Load() {
		return ErrDraining
	}
	var reasons []string
	for _, l := range s.up.chain {
		r, broken := l.Breaker.Broken()
		if !broken {
			return nil
		}
		reasons = append(reasons, r)
	}
	return fmt.Errorf("%w: %s", ErrUpstreamBroken, strings.Join(reasons, "; "))
}

// Sessions reports how many sessions are running.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

func (s *Server) handleReady(w http.ResponseWriter, _ *http.Request) {
	if err := s.Ready(); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

func (s *Server) handleMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.deps.Metrics.WritePrometheus(w)
	metrics.WriteProcessMetrics(w)
}

// Shutdown drains the server: new sessions are refused (503, and /readyz
// turns 503), every running session is closed with 1012 ("service
// restart", so clients reconnect elsewhere) and its upstream stream is
// ended properly. It returns when every session has ended, or when ctx
// ends: then the remaining sessions are stopped hard, waited for, and
// ctx's error is returned. The HTTP listener is the caller's to close.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.mu.Lock()
	for sess := range s.sessions {
		sess.closeClient(websocket.StatusServiceRestart, "service restart")
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.hardStop(ErrHardStop)
	<-done
	if s.pusher != nil {
		// What ended sessions still have for the pusher gets the rest of
		// ctx; then it is given up (counted).
		if perr := s.pusher.Shutdown(ctx); err == nil {
			err = perr
		}
	}
	return err
}

// add registers a session; it fails while draining (ErrDraining), and
// beyond MaxSessions, the key's (or signed-in user's) MaxSessionsPerKey, or the sessions whose
// share of ReplayBudgetBytes is at least MinReplayShareBytes
// (ErrTooManySessions). The replay budget is shared by rings, one per
// channel of each session.
func (s *Server) add(sess *session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining.Load() {
		return ErrDraining
	}
	if n := s.cfg.MaxSessions; n > 0 && len(s.sessions) >= n {
		return ErrTooManySessions
	}
	if n := s.cfg.MaxSessionsPerKey; n > 0 && s.perKey[sess.who.limitKey()] >= n {
		return ErrTooManySessions
	}
	rings := sess.params.rings()
	if b := s.cfg.ReplayBudgetBytes; b > 0 && int64(s.rings+rings)*MinReplayShareBytes > b {
		return ErrTooManySessions
	}
	s.rings += rings
	s.sessions[sess] = struct{}{}
	s.perKey[sess.who.limitKey()]++
	s.wg.Add(1)
	return nil
}

func (s *Server) remove(sess *session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	s.rings -= sess.params.rings()
	if s.perKey[sess.who.limitKey()]--; s.perKey[sess.who.limitKey()] <= 0 {
		delete(s.perKey, sess.who.limitKey())
	}
	s.mu.Unlock()
	s.wg.Done()
}

// link completes l for the sessions' chain: its provider's replay pace,
// if it has one (stages.Paced), its price and its idle close from cfg.
func link(cfg Config, l connector.Link) connector.Link {
	if p, ok := l.Provider.(stages.Paced); ok && l.PaceReplay == 0 {
		l.PaceReplay, l.PaceBurstMs = p.ReplayPace()
	}
	l.Price = cfg.Prices[l.Provider.Name()]
	l.IdleCloseMs = cfg.IdleCloseMs[l.Provider.Name()]
	return l
}
