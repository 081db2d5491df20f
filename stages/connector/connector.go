package connector

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"earshot/internal/chunks"
	"earshot/stages"
	"earshot/stages/retry"
)

// Config configures the connector stage. Zero fields take the
// documented defaults; negative values turn off what can be off (the
// convention of package stages).
type Config struct {
	// Backoff shapes every connect. Its Attempts bounds the first connect
	// of a session (default 3); reconnects use ReconnectAttempts.
	Backoff retry.BackoffConfig
	// ReconnectAttempts bounds each reconnect after a stream failed. 0 (the
	// default) keeps trying for as long as the client is there, holding
	// its audio in the replay ring; negative: no reconnect (a failed
	// stream fails the session).
	ReconnectAttempts int
	// KeepAliveIdleMs: after this long without sending a frame on an open
	// stream, the connector (the only KeepAlive owner of the socket) sends
	// a KeepAlive. Default 5000 (Deepgram closes idle streams after 10 s).
	KeepAliveIdleMs int
	// CloseTimeoutMs bounds the wait for the last results after
	// CloseStream when the input ends. Default 2000.
	CloseTimeoutMs int
	// ReplayMaxMs bounds the replay ring: audio not yet covered by a final
	// result, re-sent on a new stream after a failure. Audio evicted from
	// it before it was covered is counted as lost. Default 30000;
	// negative: no replay at all (what a fallback adapter without one
	// does: the audio of an outage, and what no final covered when a
	// stream failed, are lost), for comparisons.
	ReplayMaxMs int
	// StallTimeoutMs: a stream that took audio but sent no result for this
	// long is declared stalled and replaced. Halfway, the connector sends
	// one Finalize to prompt a result. Default 20000; negative disables.
	StallTimeoutMs int
	// FinalizeIdleMs: when the client's audio pauses this long while
	// audio sent upstream is not yet covered by a final result, the
	// connector sends one Finalize, so that the words of an utterance the
	// upstream has not ended (it ends utterances at silence in the audio,
	// and no audio is coming) reach the client while it waits, rather than
	// only at CloseStream after it left. Sent once per pause, and not for
	// words already asked for (by FinalizeSilenceMs, or a stall probe).
	// Default 1000 (ten times a client's 100 ms frame interval); negative
	// disables.
	FinalizeIdleMs int
	// FinalizeSilenceMs: after this much of the VAD gate's silence
	// following speech (stages.MarkSilence audio), or when the gate starts
	// holding audio back (stages.MarkHold) sooner, the connector sends one
	// Finalize for the utterance, so its words arrive without waiting for
	// more audio; the rest of that silence holds no words to ask for.
	// Only an active gate marks audio so. Default 300; negative means
	// never (FinalizeIdleMs still applies).
	FinalizeSilenceMs int
	// MinStreamMs: a stream that fails sooner than this after it opened
	// counts as a failed connect, so the next dial waits a backoff delay
	// first (no tight loops); three such quick deaths in a row move a
	// session with a chain to its next provider. Default 2000; negative
	// disables.
	MinStreamMs int
	// FailoverAfterMs: with a chain (Deps.Chain), reconnects to one
	// provider that keep failing this long after its stream failed move
	// the session to the next provider (so do a permanent refusal, the
	// provider's breaker being open, and the attempts running out).
	// Default DefaultFailoverAfterMs; negative: only those others.
	FailoverAfterMs int
	// MaxFailovers bounds how many times a session moves between the
	// providers of its chain, fail-backs included. Default
	// DefaultMaxFailovers; negative: never.
	MaxFailovers int
	// FailbackCheckMs: a session on a later provider of its chain checks
	// this often whether an earlier one is healthy again (its breaker
	// closed, or half-open with a probe to spare) and, at an utterance
	// boundary (every word sent covered by final results, or an endpoint
	// with at most 300 ms of audio after it), dials it and moves back,
	// the replay ring re-sending what no final covered. Default
	// DefaultFailbackCheckMs; negative: never fail back.
	FailbackCheckMs int
	// MessageMaxMs bounds the audio of one upstream message when frames
	// have queued up: a replay, a backlog left by a dial or the pace, or
	// frames that waited for the connector's goroutine under load go out
	// several frames to a message rather than one write each; a frame
	// that arrives alone still goes alone, at once. Default 250
	// (Deepgram's largest recommended message); negative: one frame per
	// message always.
	MessageMaxMs int
}

// Defaults of Config.
const (
	DefaultKeepAliveIdleMs = 5000
	DefaultCloseTimeoutMs  = 2000
	DefaultReplayMaxMs     = 30000
	DefaultStallTimeoutMs  = 20000
	DefaultMinStreamMs     = 2000
	DefaultFinalizeIdleMs  = 1000
	// DefaultFinalizeSilenceMs is 300 ms: Deepgram's endpointing=300.
	DefaultFinalizeSilenceMs = 300
	DefaultMessageMaxMs      = 250
)

// unlimitedAttempts stands for "keep trying while the client is there".
const unlimitedAttempts = 1 << 30

func (c Config) withDefaults() Config {
	if c.ReconnectAttempts == 0 {
		c.ReconnectAttempts = unlimitedAttempts
	}
	stages.Default(&c.KeepAliveIdleMs, DefaultKeepAliveIdleMs)
	stages.Default(&c.CloseTimeoutMs, DefaultCloseTimeoutMs)
	stages.DefaultOrOff(&c.ReplayMaxMs, DefaultReplayMaxMs)
	stages.DefaultOrOff(&c.StallTimeoutMs, DefaultStallTimeoutMs)
	stages.DefaultOrOff(&c.MinStreamMs, DefaultMinStreamMs)
	stages.DefaultOrOff(&c.FinalizeIdleMs, DefaultFinalizeIdleMs)
	stages.DefaultOrOff(&c.FinalizeSilenceMs, DefaultFinalizeSilenceMs)
	stages.DefaultOrOff(&c.FailoverAfterMs, DefaultFailoverAfterMs)
	stages.DefaultOrOff(&c.MaxFailovers, DefaultMaxFailovers)
	stages.DefaultOrOff(&c.FailbackCheckMs, DefaultFailbackCheckMs)
	stages.DefaultOrOff(&c.MessageMaxMs, DefaultMessageMaxMs)
	c.MaxFailovers = max(c.MaxFailovers, 0)
	return c
}

// Deps are the connector's runtime dependencies.
type Deps struct {
	// Provider dials the upstream. Required unless Chain is set.
	Provider stages.Provider
	// Chain, if not empty, replaces Provider and Breaker: the providers
	// to use, in order of preference, each with its breaker. A session
	// starts on the first whose breaker lets it dial and moves on when
	// one fails (Config.FailoverAfterMs), re-sending the replay ring's
	// audio to the next, so that no word is lost or repeated.
	Chain []Link
	// Metrics are the server-wide connector metrics. Required.
	Metrics *Metrics
	// Breaker is the upstream target's process-wide circuit breaker; nil
	// means none.
	Breaker *retry.Breaker
	// Budget is the process-wide retry budget; nil means none.
	Budget *retry.Budget
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Rand returns uniform draws in [0, 1) for backoff jitter; nil means
	// math/rand/v2.
	Rand func() float64
	// Chunks stores the replay ring's audio; nil means chunks.Default(),
	// the process's pool.
	Chunks *chunks.Pool
	// Prefix, if not empty, is audio of the session sent at the start of
	// every stream, before any of the input's (a user's speech profile,
	// so that the provider's diarization hears that voice first): whole
	// 16-bit samples at the stream's rate, then a Finalize. It is not on
	// the capture clock: the words that start in it are dropped, and
	// EventPrefixDone tells when a stream's results reached past it. The
	// connector only reads it.
	Prefix []byte
}

// Connector is the one generic stage that owns an upstream socket: it
// dials with backoff, sends audio and KeepAlives, receives results, maps
// their times onto the capture clock and reconnects after failures.
//
// Providers never sleep, retry or touch channels; everything time-driven
// about an upstream lives here.
type Connector struct {
	cfg   Config
	sc    stages.StreamConfig
	deps  Deps
	log   *slog.Logger
	stats connStats
}

// New returns a connector for one upstream socket of a session.
func New(cfg Config, sc stages.StreamConfig, deps Deps) *Connector {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Rand == nil {
		deps.Rand = rand.Float64
	}
	if deps.Chunks == nil {
		deps.Chunks = chunks.Default()
	}
	return &Connector{cfg: cfg.withDefaults(), sc: sc, deps: deps, log: deps.Logger}
}

// Run reads audio from in and sends Updates on out, which it closes on
// return.
//
// Soft stop: when in is closed while a stream is open, Run sends
// CloseStream, forwards the last results for up to CloseTimeoutMs, closes
// the stream and returns nil. When in is closed while no stream is open (the
// client left during a dial or a backoff wait), the connect is aborted at
// once and Run returns nil without reporting a failure.
//
// Hard stop: when ctx is done Run closes the stream at once and returns
// ctx's cause.
//
// When connecting fails for good (a permanent error, or the attempts ran
// out), Run sends EventFailed, then discards the rest of in (counted as
// lost audio) until it is closed, so that no earlier stage ever blocks.
func (c *Connector) Run(ctx context.Context, in <-chan stages.Audio, out chan<- stages.Update) error {
	defer close(out)
	st := &connState{
		in:      in,
		ring:    newReplayRing(c.samples(c.ringMs()), c.deps.Chunks),
		silence: newSilenceRun(c.samples(c.cfg.FinalizeSilenceMs)),
	}
	defer func() { st.ring.release() }()
	if err := stages.Send(ctx, out, c.state(st, stages.EventConnecting, "")); err != nil {
		return err
	}
	var (
		delay      time.Duration // wait before the next connect's first dial
		quickFails int
		everUp     bool
	)
	var back *failback // a fail-back's new stream, open already
	// quiet: the next stream opens at the next speech, without a state
	// event when it does: the first one of a provider with an idle close
	// (the session was told it is ready at once), or after an idle close.
	quiet := c.links()[st.link].IdleCloseMs > 0
	if quiet {
		if err := stages.Send(ctx, out, c.state(st, stages.EventConnected, "")); err != nil {
			return err
		}
	}
	for {
		var (
			s        stages.Stream
			err      error
			announce *stages.Update
		)
		if quiet {
			speech, err := c.waitSpeech(ctx, st)
			if err != nil || !speech {
				return err // a hard stop, or the input closed while idle
			}
		}
		fellBack := back != nil
		if fellBack {
			s = back.s
			c.failedBack(st, back)
			back = nil
		} else if s, err = c.connect(ctx, st, delay, everUp && !quiet); err != nil {
			degraded := everUp && !quiet
			return c.fail(ctx, st, out, err, degraded, everUp)
		}
		switch {
		case quiet:
			quiet = false
		case fellBack:
			if err := stages.Send(ctx, out, c.state(st, stages.EventRecovered, stages.ReasonFailback)); err != nil {
				_ = s.Close()
				return err
			}
		case everUp && st.fellFrom != "":
			// A failover: recovered once the new provider answers.
			c.deps.Metrics.Reconnects.Inc()
			c.deps.Metrics.Degraded.Dec()
			u := c.state(st, stages.EventRecovered, fallbackReason(st.fellFrom))
			announce = &u
		case everUp:
			c.deps.Metrics.Reconnects.Inc()
			c.deps.Metrics.Degraded.Dec()
			if err := stages.Send(ctx, out, c.state(st, stages.EventRecovered, "")); err != nil {
				_ = s.Close()
				return err
			}
		default:
			reason := ""
			if st.fellFrom != "" {
				reason = fallbackReason(st.fellFrom)
			}
			if err := stages.Send(ctx, out, c.state(st, stages.EventConnected, reason)); err != nil {
				_ = s.Close()
				return err
			}
		}
		st.fellFrom = ""
		everUp = true
		opened := time.Now()
		err = c.stream(ctx, st, s, out, announce)
		if err == nil {
			c.deps.Metrics.streamEnds("closed").Inc()
			return nil
		}
		if errors.As(err, &back) {
			c.deps.Metrics.streamEnds("failback").Inc()
			quickFails = 0
			continue
		}
		if errors.Is(err, errIdleClosed) {
			c.deps.Metrics.streamEnds("idle").Inc()
			quiet, quickFails = true, 0
			continue
		}
		class := stages.Classify(err)
		c.deps.Metrics.streamEnds(class.String()).Inc()
		if class != stages.ClassAborted {
			c.deps.Metrics.streamFailures(failureReason(err)).Inc()
		}
		if class == stages.ClassAborted || (class == stages.ClassPermanent && !c.canFailover(st)) {
			return c.fail(ctx, st, out, err, false, true)
		}
		if st.failingSince.IsZero() {
			st.failingSince = time.Now()
		}
		c.log.Warn("upstream stream failed; reconnecting", "provider", c.name(st),
			"held_seconds", stages.SamplesToSeconds(st.ring.held(), c.sc.SampleRateHz), "err", err)
		c.deps.Metrics.Degraded.Inc()
		if err := stages.Send(ctx, out, c.state(st, stages.EventDegraded, stages.Reason(err))); err != nil {
			c.deps.Metrics.Degraded.Dec()
			return err
		}
		delay = 0
		if time.Since(opened) < time.Duration(c.cfg.MinStreamMs)*time.Millisecond {
			delay = c.cfg.Backoff.Delay(quickFails, c.deps.Rand())
			quickFails++
		} else {
			quickFails = 0
		}
		// A permanent end, or a provider that keeps accepting and then
		// dying, is done for this session: the next one, at once.
		if class == stages.ClassPermanent {
			st.ban()
		}
		if class == stages.ClassPermanent || (quickFails >= quickDeathsToFailover && c.canFailover(st)) {
			st.skip, delay, quickFails = true, 0, 0
		}
	}
}

// settleLost counts as lost the audio the ring evicted that no final
// covered: it can no longer be replayed, and no open stream may still
// cover it.
func (c *Connector) settleLost(st *connState) { c.lose(st.ring.settle(st.acked)) }

// ringMs is the ring's bound: ReplayMaxMs, or without replay the
// default (the ring still holds what the stream has yet to send and
// acknowledge).
func (c *Connector) ringMs() int {
	if c.cfg.ReplayMaxMs < 0 {
		return DefaultReplayMaxMs
	}
	return c.cfg.ReplayMaxMs
}

// samples converts ms at the stream's rate; a negative ms stays negative.
func (c *Connector) samples(ms int) int64 { return int64(ms) * int64(c.sc.SampleRateHz) / 1000 }

// state is the Update of a state change of the session's current
// provider.
func (c *Connector) state(st *connState, k stages.EventKind, reason string) stages.Update {
	return stages.Update{Kind: k, Reason: reason, Provider: c.name(st)}
}

// fallbackReason is the reason of a ready from a provider the session
// fell back to from provider from.
func fallbackReason(from string) string { return "fallback_from_" + from }

// fail ends Run after connecting failed for good or the session ended;
// degraded says the Degraded gauge counts this session, wasConnected that
// a stream had been open.
func (c *Connector) fail(ctx context.Context, st *connState, out chan<- stages.Update, err error, degraded, wasConnected bool) error {
	if degraded {
		c.deps.Metrics.Degraded.Dec()
	}
	if stages.Classify(err) == stages.ClassAborted {
		// The client left (or the server stopped) while no stream
		// could take the audio held: it was never transcribed.
		c.lose(c.dropRing(st))
		return ctxErr(ctx)
	}
	c.log.Error("upstream unavailable", "provider", c.name(st), "err", err)
	u := c.state(st, stages.EventFailed, stages.Reason(err))
	u.Failure, u.WasConnected = failure(err), wasConnected
	u.RetryAfter, _ = stages.RetryAfter(err)
	if err := stages.Send(ctx, out, u); err != nil {
		return err
	}
	lost := c.dropRing(st)
	for st.in != nil {
		a, ok, err := stages.Recv(ctx, st.in)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		lost += a.Samples()
		a.Release()
	}
	c.lose(lost)
	return nil
}

// dropRing gives up the ring's audio for good and returns how much of it
// no final covered (evicted before, or still held).
func (c *Connector) dropRing(st *connState) (lost int64) {
	st.ring.ack(st.acked)
	lost = st.ring.settle(st.acked) + st.ring.held()
	st.ring.release()
	st.ring = newReplayRing(0, c.deps.Chunks)
	return lost
}

// ctxErr is ctx's cause when ctx is done (hard stop), else nil (the input
// closed: soft stop).
func ctxErr(ctx context.Context) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// failure is the neutral outcome of a connector that gave up with err.
func failure(err error) stages.Failure {
	switch {
	case errors.Is(err, stages.ErrCapacity):
		return stages.FailureCapacity
	case stages.Classify(err) == stages.ClassPermanent:
		return stages.FailurePermanent
	default:
		return stages.FailureUnavailable
	}
}
