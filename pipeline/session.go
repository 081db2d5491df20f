package pipeline

import (
	"context"
	"log/slog"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"earshot/internal/uuid"
	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/fanout"
	"earshot/stages/gate"
	"earshot/stages/ingest"
)

// session is one client WebSocket and the graph of stages serving it:
//
//	reader ─frames─► ingest ─audio─► gate ─gated─► connector ─updates─► fanout ─outbox─► writer
//	   └──────────────────────────assign (speaker_assigned)──────────────────────┘
//
// Every stage runs under one errgroup on the session's context. The client
// leaving closes frames (the soft stop that flows down the graph and ends
// the upstream stream properly); cancelling the context is the hard stop.
type session struct {
	srv    *Server
	conn   *websocket.Conn
	params Params
	// ing is the session's ingest stage, set before any stage runs; the
	// reader paces compressed audio by what it decoded.
	ing   *ingest.Ingest
	who   principal // the client's key or signed-in user
	id    string
	log   *slog.Logger
	start time.Time

	lastActivity atomic.Int64 // unix nanoseconds of the client's last frame

	closeOnce sync.Once
	closeCode atomic.Int64 // the code the server closed with, or 0
	closing   sync.WaitGroup
}

func newSession(srv *Server, conn *websocket.Conn, p Params, who principal) *session {
	id := uuid.New()
	return &session{
		srv:    srv,
		conn:   conn,
		params: p,
		who:    who,
		id:     id,
		log:    srv.log.With("session", id),
		start:  time.Now(),
	}
}

// assignDepth is how many speaker assignments may wait for the fan-out.
const assignDepth = 8

// run serves the session until every stage has returned.
func (s *session) run(base context.Context) {
	m := s.srv.m
	m.sessions.Inc()
	m.active.Inc()
	defer m.active.Dec()
	s.lastActivity.Store(time.Now().UnixNano())
	cfg := s.srv.cfg
	gateCfg := cfg.Gate
	gateCfg.Mode = sessionGateMode(cfg.Gate.Mode, s.params.VADGate)
	gt := gate.New(gateCfg, s.params.SampleRateHz, gate.Deps{
		NewDetector: s.srv.deps.NewDetector, Metrics: m.gate, Logger: s.log,
	})
	s.log.Info("session started", "language", s.params.Language, "sample_rate", s.params.SampleRateHz,
		"codec", s.params.Codec, "source", s.params.Source, "provider", s.srv.deps.Provider.Name(),
		"gate", string(gt.Mode()), "user", s.who.userHash, "signed_in", s.who.signed)

	ctx, cancel := context.WithCancelCause(base)
	defer cancel(nil)
	// The connection's I/O uses a context that never expires; the session
	// ending tears it down instead (see STYLE.md on coder/websocket).
	stopConn := context.AfterFunc(ctx, func() { _ = s.conn.CloseNow() })
	defer stopConn()

	depth := cfg.ChannelDepth
	frames := make(chan []byte, depth)
	audio := make(chan stages.Audio, depth)
	gated := make(chan stages.Audio, depth)
	updates := make(chan stages.Update, depth)
	assign := make(chan stages.SpeakerAssignment, assignDepth)
	client := fanout.NewOutbox[stages.Message]("client", cfg.ClientOutboxSize, fanout.Disconnect, nil)

	ing := ingest.New(ingest.Config{
		Codec: s.params.Codec, SampleRateHz: s.params.SampleRateHz, Opus: cfg.OpusDecoder,
	}, m.ingest)
	s.ing = ing
	conn := connector.New(cfg.Connector, stages.StreamConfig{
		SampleRateHz: s.params.SampleRateHz, Channels: s.params.Channels, Language: s.params.Language,
	}, connector.Deps{
		Provider: s.srv.deps.Provider, Metrics: m.connector, Logger: s.log,
		Breaker: s.srv.up.breaker, Budget: s.srv.up.budget, Chunks: s.srv.deps.Chunks,
	})
	fan := fanout.New(cfg.Fanout, s.srv.deps.Provider.Name(), m.fanout)

	g, gctx := errgroup.WithContext(ctx)
	goStage := func(name string, f func(context.Context) error) {
		// Labelled for profiles. The labels are built here, on the
		// handler's goroutine: building them on the stage's own
		// goroutine (or with pprof.Do) grows every stage's stack for the
		// whole session, 8 KB per session in all.
		labels := pprof.WithLabels(gctx, pprof.Labels("stage", name, "session", s.id))
		g.Go(func() error {
			pprof.SetGoroutineLabels(labels)
			return f(gctx)
		})
	}
	goStage("reader", func(ctx context.Context) error { return s.read(ctx, frames, assign) })
	goStage("ingest", func(ctx context.Context) error { return ing.Run(ctx, frames, audio) })
	goStage("gate", func(ctx context.Context) error { return gt.Run(ctx, audio, gated) })
	goStage("connector", func(ctx context.Context) error { return conn.Run(ctx, gated, updates) })
	goStage("fanout", func(ctx context.Context) error {
		return fan.Run(ctx, updates, assign, []*fanout.Outbox[stages.Message]{client})
	})
	goStage("writer", func(ctx context.Context) error { return s.write(ctx, client) })
	err := g.Wait()

	s.closing.Wait() // a closing handshake the server started (bounded by the library)
	_ = s.conn.CloseNow()
	code := int(s.closeCode.Load())
	m.closed(code)
	m.sessionSec.UpdateDuration(s.start)
	sum := s.summary(code, ing.Stats(), gt.Stats(), conn.Stats())
	m.captureSec.Add(sum.CaptureSeconds)
	s.log.Info("session ended", "duration", time.Since(s.start).Round(time.Millisecond),
		"capture_seconds", sum.CaptureSeconds, "decode_errors", sum.DecodeErrors, "sent_seconds", sum.SentSeconds,
		"speech_seconds", sum.SpeechSeconds, "held_seconds", sum.HeldSeconds,
		"replayed_seconds", sum.ReplayedSeconds, "lost_seconds", sum.LostSeconds,
		"keepalives", sum.KeepAlives, "gate", string(sum.Gate), "gate_failed_open", sum.GateFailedOpen,
		"close_code", code, "err", err)
	if f := s.srv.deps.OnSessionEnd; f != nil {
		f(sum)
	}
}

// summary describes the session once every stage has returned.
func (s *session) summary(code int, is ingest.Stats, gs gate.Stats, cs connector.Stats) SessionSummary {
	sec := func(samples int64) float64 { return stages.SamplesToSeconds(samples, s.params.SampleRateHz) }
	return SessionSummary{
		ID: s.id, Started: s.start, Ended: time.Now(), CloseCode: code,
		CaptureSeconds: sec(is.Samples), DecodeErrors: is.DecodeErrors,
		SentSeconds: sec(cs.Sent), ReplayedSeconds: sec(cs.Replayed), LostSeconds: sec(cs.Lost),
		SpeechSeconds: sec(gs.Speech), HeldSeconds: sec(gs.Held),
		KeepAlives: cs.KeepAlives, Gate: gs.Mode, GateFailedOpen: gs.FailedOpen,
	}
}

// sessionGateMode is a session's gate mode: the server's, overridden by
// the vad_gate parameter ("enabled": active, "disabled": off).
func sessionGateMode(server gate.Mode, vadGate string) gate.Mode {
	switch vadGate {
	case "enabled":
		return gate.Active
	case "disabled":
		return gate.Off
	default:
		return server
	}
}

// closeClient starts the closing handshake with code and reason, once.
// It does not block: the handshake runs in a goroutine owned by the
// session and joined before run returns.
func (s *session) closeClient(code websocket.StatusCode, reason string) {
	s.closeOnce.Do(func() {
		// The first code recorded stands: the client's own close, or a
		// connection cut off as stuck, is not overwritten by the normal
		// close that follows when the graph ends.
		s.closeCode.CompareAndSwap(0, int64(code))
		s.closing.Go(func() { _ = s.conn.Close(code, closeReason(reason)) })
	})
}
