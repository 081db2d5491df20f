package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"runtime/pprof"
	"strconv"
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
	"earshot/stages/pusher"
)

// session is one client WebSocket and the graph of stages serving it:
//
//	reader+ingest+gate ─gated─► connector ─updates─► fanout ─outbox─► writer
//	   └──────────────assign (speaker_assigned)──────────────┘
//
// In a single-channel session the reader decodes and gates each frame on
// its own goroutine (ingest's Step feeding gate's Stepper, see input.go),
// and the writer runs on the handler's goroutine. A multi-channel session
// has one ingest → gate → connector chain per channel, between a demux of
// the reader's frames and a fan-in of the chains' updates (graph.go);
// each chain decodes and gates on a goroutine of its own.
//
// Every stage runs under one errgroup on the session's context. The client
// leaving closes the reader's output (the soft stop that flows down the
// graph and ends the upstream stream properly); cancelling the context is
// the hard stop.
type session struct {
	srv    *Server
	conn   *websocket.Conn
	params Params
	// ings are the session's ingest stages, one per channel, set before
	// any stage runs; the reader paces compressed audio by what they
	// decoded.
	ings []*ingest.Ingest
	// push is the session's pusher sink and tap its audio feed, nil
	// without a pusher.
	push  *pusher.Session
	tap   *pusherTap
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
	prefix := s.speechProfile()
	timeout := s.params.ConversationTimeoutSec
	if s.srv.pusher != nil {
		s.push = s.srv.pusher.Session(pusher.SessionParams{
			UID: s.who.pusherUID(s.params.UID), SampleRateHz: s.params.SampleRateHz, Language: s.params.Language,
			ConversationTimeoutSec: float64(timeout), ID: s.id,
		})
		s.tap = newPusherTap(s.push, s.params.Channels, s.params.SampleRateHz)
	}
	chains := s.newChains(prefix)
	s.log.Info("session started", "language", s.params.Language, "sample_rate", s.params.SampleRateHz,
		"codec", s.params.Codec, "channels", s.params.Channels, "source", s.params.Source,
		"provider", s.srv.deps.Provider.Name(), "gate", string(chains[0].gt.Mode()),
		"user", s.who.userHash, "signed_in", s.who.signed, "speech_profile", prefix != nil)

	ctx, cancel := context.WithCancelCause(base)
	defer cancel(nil)
	// The connection's I/O uses a context that never expires; the session
	// ending tears it down instead (see STYLE.md on coder/websocket).
	stopConn := context.AfterFunc(ctx, func() { _ = s.conn.CloseNow() })
	defer stopConn()

	g, gctx := errgroup.WithContext(ctx)
	goStage := func(name string, channel int, f func(context.Context) error) {
		// Labelled for profiles. The labels are built here, on the
		// handler's goroutine: building them on the stage's own
		// goroutine (or with pprof.Do) grows every stage's stack for the
		// whole session, 8 KB per session in all.
		labels := pprof.Labels("stage", name, "session", s.id)
		if channel > 0 {
			labels = pprof.Labels("stage", name, "session", s.id, "channel", strconv.Itoa(channel))
		}
		lctx := pprof.WithLabels(gctx, labels)
		g.Go(func() error {
			pprof.SetGoroutineLabels(lctx)
			return f(gctx)
		})
	}
	client := fanout.NewOutbox[stages.Message]("client", cfg.ClientOutboxSize, fanout.Disconnect, nil)
	assign := make(chan stages.SpeakerAssignment, assignDepth)
	updates, input := s.startChains(goStage, chains)
	goStage("reader", 0, func(ctx context.Context) error {
		send, end, err := input(ctx)
		if err == nil {
			err = s.read(ctx, send, assign)
		} else {
			close(assign)
		}
		end(err == nil)
		return err
	})
	fanCfg := cfg.Fanout
	fanCfg.Channels = s.params.Channels
	fanCfg.Profile = prefix != nil
	fanCfg.ConversationTimeoutSec = timeout
	ing0, rate := chains[0].ing, float64(s.params.SampleRateHz)
	fan := fanout.New(fanCfg, fanout.Deps{
		Provider: s.srv.deps.Provider.Name(), Metrics: m.fanout,
		CaptureSec: func() float64 { return float64(ing0.Samples()) / rate },
	})
	sinks := []fanout.Sink{client}
	if s.push != nil {
		sinks = append(sinks, s.push)
	}
	goStage("fanout", 0, func(ctx context.Context) error { return fan.Run(ctx, updates, assign, sinks) })
	// The writer runs on this goroutine, which would otherwise only wait
	// for the others (one goroutine and its stack fewer per session). It
	// ends once the fan-out has closed the outbox, or on a hard stop; an
	// error from it stops the others as a stage's error does.
	pprof.SetGoroutineLabels(pprof.WithLabels(gctx, pprof.Labels("stage", "writer", "session", s.id)))
	werr := s.write(gctx, client)
	if werr != nil {
		cancel(werr)
	}
	err := g.Wait()
	if err == nil {
		err = werr
	}

	s.closing.Wait() // a closing handshake the server started (bounded by the library)
	_ = s.conn.CloseNow()
	code := int(s.closeCode.Load())
	m.closed(code)
	m.sessionSec.UpdateDuration(s.start)
	sum := s.summary(code, chains)
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

// speechProfile returns the prefix of a speech-profile session: the
// user's profile when the session asks for one, has one channel, and the
// user has a readable profile; else nil, logged once when a profile was
// there but could not be used.
func (s *session) speechProfile() []byte {
	if !s.params.IncludeSpeechProfile || s.params.Channels > 1 {
		return nil
	}
	cfg := s.srv.cfg
	prefix, err := profilePrefix(cfg.ProfilesDir, s.who.user, s.params.SampleRateHz, cfg.ProfilePrefixMs)
	switch {
	case errors.Is(err, errNoProfile):
		return nil
	case err != nil:
		s.log.Warn("speech profile not used; an ordinary session", "err", err)
		return nil
	}
	return prefix
}

// summary describes the session once every stage has returned: the sums
// over its channels (seconds of every channel's audio) and connectors
// (a speech-profile session's sent seconds include the profile).
func (s *session) summary(code int, chains []chain) SessionSummary {
	sec := func(samples int64) float64 { return stages.SamplesToSeconds(samples, s.params.SampleRateHz) }
	var is ingest.Stats
	var gs gate.Stats
	var cs connector.Stats
	for i, c := range chains {
		ist, gst := c.ing.Stats(), c.gt.Stats()
		is.Samples += ist.Samples
		is.DecodeErrors += ist.DecodeErrors
		gs.Speech += gst.Speech
		gs.Held += gst.Held
		if i == 0 {
			gs.Mode = gst.Mode
		}
		gs.FailedOpen = gs.FailedOpen || gst.FailedOpen
		for _, conn := range c.connectors() {
			cst := conn.Stats()
			cs.Sent += cst.Sent
			cs.Replayed += cst.Replayed
			cs.Lost += cst.Lost
			cs.KeepAlives += cst.KeepAlives
		}
	}
	return SessionSummary{
		ID: s.id, Started: s.start, Ended: time.Now(), CloseCode: code, Channels: len(chains),
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
