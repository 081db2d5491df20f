package pusher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/pprof"
	"sync"

	"github.com/VictoriaMetrics/metrics"

	wire "earshot/protocol/pusher"
	"earshot/stages/retry"
)

// Pusher is the process-wide part of the pusher sink: the breaker, the
// metrics, and the sessions' connection goroutines, which it owns (they
// outlive their sessions; Shutdown ends them). Safe for concurrent use.
type Pusher struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	m       *pusherMetrics
	breaker *retry.Breaker

	base context.Context
	stop context.CancelCauseFunc
	wg   sync.WaitGroup
	mu   sync.Mutex
	shut bool
}

// New returns a Pusher for cfg.URL. It fails when the URL cannot make a
// pusher address (ErrConfig) or deps.EncodeSegments is nil.
func New(cfg Config, deps Deps) (*Pusher, error) {
	if _, err := wire.URL(cfg.URL, "u", 16000); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if deps.EncodeSegments == nil {
		return nil, fmt.Errorf("%w: no segment encoder", ErrConfig)
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Metrics == nil {
		deps.Metrics = metrics.NewSet()
	}
	cfg = cfg.withDefaults()
	b := retry.NewBreaker("pusher", cfg.Breaker, nil)
	base, stop := context.WithCancelCause(context.Background())
	return &Pusher{
		cfg: cfg, deps: deps, log: deps.Logger.With("sink", "pusher"),
		m: newMetrics(deps.Metrics, b), breaker: b, base: base, stop: stop,
	}, nil
}

// Session starts the pusher sink of one listen session and its
// connection goroutine. After Shutdown it returns a session that
// discards everything (the server is stopping).
func (p *Pusher) Session(sp SessionParams) *Session {
	url, err := wire.URL(p.cfg.URL, sp.UID, sp.SampleRateHz)
	s := &Session{
		p: p, params: sp, url: url, log: p.log.With("session", sp.ID),
		rate: float64(sp.SampleRateHz), hold: int64(sp.ConversationTimeoutSec * float64(sp.SampleRateHz)),
		closedCh: make(chan struct{}),
		answered: make(chan struct{}, 1),
	}
	s.audio.cap = p.cfg.AudioBufferBytes
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shut || err != nil {
		s.closed = true
		close(s.closedCh)
		return s
	}
	p.wg.Add(1)
	labels := pprof.Labels("stage", "pusher", "session", sp.ID)
	go func() {
		defer p.wg.Done()
		pprof.SetGoroutineLabels(pprof.WithLabels(p.base, labels))
		s.run(p.base)
	}()
	return s
}

// Shutdown lets every session's connection goroutine finish what it has
// to deliver until ctx is done, then stops the rest (what they still held
// is given up and counted) and waits for them. No session starts after
// it.
func (p *Pusher) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.shut = true
	p.mu.Unlock()
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		p.stop(ErrShutdown)
		return nil
	case <-ctx.Done():
		p.stop(ErrShutdown)
		<-done
		return ctx.Err()
	}
}

// Errors of the package.
var (
	// ErrConfig: the configuration cannot work.
	ErrConfig = errors.New("pusher config")
	// ErrShutdown is the cause that ends connection goroutines cut off by
	// Shutdown.
	ErrShutdown = errors.New("pusher shut down")
	// errLinger: the session ended LingerMs ago; what is left is given up.
	errLinger = errors.New("pusher linger time over")
)
