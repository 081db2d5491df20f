package gate

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"earshot/stages"
)

// Mode is what a VAD gate does with the audio.
type Mode string

// The gate modes. The zero Mode means Off.
const (
	// Off passes every frame through unchanged; no detector runs.
	Off Mode = "off"
	// Shadow runs the detector and counts what an active gate would
	// hold back, but sends everything (to measure before switching on).
	Shadow Mode = "shadow"
	// Active sends upstream only speech, with pre-roll and hangover,
	// marked with what it knows (stages.MarkSpeech, MarkSilence,
	// MarkHold).
	Active Mode = "active"
)

// ParseMode parses "off", "shadow" or "active"; anything else wraps
// ErrConfig.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Off, Shadow, Active:
		return m, nil
	default:
		return "", fmt.Errorf("%w: mode %q (want off, shadow or active)", ErrConfig, s)
	}
}

// Config configures the VAD gate. Zero fields take the documented
// defaults.
type Config struct {
	// Mode: Off (the default), Shadow or Active.
	Mode Mode
	// Threshold: a detector window is speech when its probability is
	// above it. In (0, 1); default 0.65.
	Threshold float64
	// PrerollMs of audio before the speech onset are sent with it (held
	// while silent). Default 300; negative means none.
	PrerollMs int
	// HangoverMs of silence after speech are still sent before the gate
	// holds audio back again; speech within it goes on without a gap.
	// Default 700 (Omi's first gate; its current one uses 4000);
	// negative means none.
	HangoverMs int
}

// Defaults of Config.
const (
	DefaultThreshold  = 0.65
	DefaultPrerollMs  = 300
	DefaultHangoverMs = 700
)

// Validate reports an unknown mode or a threshold outside (0, 1) (zero
// means the default), wrapping ErrConfig.
func (c Config) Validate() error {
	if c.Mode != "" {
		if _, err := ParseMode(string(c.Mode)); err != nil {
			return err
		}
	}
	if c.Threshold != 0 && !(c.Threshold > 0 && c.Threshold < 1) {
		return fmt.Errorf("%w: threshold %v outside (0, 1)", ErrConfig, c.Threshold)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Mode == "" {
		c.Mode = Off
	}
	if c.Threshold == 0 {
		c.Threshold = DefaultThreshold
	}
	stages.DefaultOrOff(&c.PrerollMs, DefaultPrerollMs)
	stages.DefaultOrOff(&c.HangoverMs, DefaultHangoverMs)
	return c
}

// Deps are the gate's runtime dependencies.
type Deps struct {
	// NewDetector makes the session's speech detector. nil turns the gate
	// off whatever the mode.
	NewDetector stages.DetectorFactory
	// Metrics are the server-wide gate metrics. Required.
	Metrics *Metrics
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Stats are one gate's counts. Sample counts are at the session's
// rate. In active mode Captured == Sent + Held once Run returned.
type Stats struct {
	// Mode is the mode the gate started in (Off without a detector
	// factory).
	Mode Mode
	// FailedOpen: the detector failed, and the gate sent everything since.
	FailedOpen bool
	// Captured counts samples received; Sent those sent on (everything
	// but what an active gate held); Speech those in frames the detector
	// called speech.
	Captured, Sent, Speech int64
	// Held counts silence an active gate never sent or, in shadow mode,
	// what it would have held (it sent them).
	Held int64
	// Onsets counts silence-to-speech decisions.
	Onsets int64
}

// Gate is the VAD gate stage: it decides which audio goes upstream
// (spec/vad.md). It never changes the audio it sends nor its capture-clock
// Start, so the silence it holds back leaves gaps in the capture indices
// sent; the connector's ClockMap maps provider time back across them.
//
// States, in active mode: SILENCE holds the last PrerollMs of audio; a
// speech frame sends that pre-roll, then the frame (SPEECH), and every
// frame is sent while speech goes on. The first silent frame starts the
// HANGOVER: audio is still sent, as stages.MarkSilence; after HangoverMs
// the gate says it holds audio back (a stages.MarkHold) and holds it again
// (SILENCE). Speech during the hangover goes back to SPEECH. Pre-roll and
// speech are sent as stages.MarkSpeech. Frames are split at these points,
// to the sample.
//
// The gate states facts only: whether and when to ask the upstream for a
// Finalize is the connector's decision (connector.Config's
// FinalizeSilenceMs), made from the marks.
//
// The gate fails open: when the detector fails (an error, a panic, a bad
// probability, or it cannot be made) the gate logs it once, counts it,
// sends the pre-roll it held and passes everything through for the rest of
// the session. It never sends KeepAlives or any control: while it holds
// silence, the connector's KeepAlive timer keeps the upstream alive.
type Gate struct {
	cfg    Config
	rateHz int
	mode   Mode
	deps   Deps
	log    *slog.Logger

	captured, sent, speech, held, onsets atomic.Int64
	failedOpen                           atomic.Bool
}

// New returns a gate for a stream of audio at rateHz. cfg should have
// passed Validate; an invalid mode counts as Off.
func New(cfg Config, rateHz int, deps Deps) *Gate {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	cfg = cfg.withDefaults()
	mode := cfg.Mode
	if (mode != Shadow && mode != Active) || deps.NewDetector == nil {
		mode = Off
	}
	return &Gate{cfg: cfg, rateHz: rateHz, mode: mode, deps: deps, log: deps.Logger}
}

// Mode is the mode the gate starts in.
func (g *Gate) Mode() Mode { return g.mode }

// Stats returns the gate's counts so far. Safe for concurrent use.
func (g *Gate) Stats() Stats {
	return Stats{
		Mode: g.mode, FailedOpen: g.failedOpen.Load(),
		Captured: g.captured.Load(), Sent: g.sent.Load(), Speech: g.speech.Load(),
		Held: g.held.Load(), Onsets: g.onsets.Load(),
	}
}

// Run reads audio from in until it is closed or ctx is done, sends what
// the mode lets through on out, and closes out on return. Audio with no
// samples is dropped. Pre-roll still held when in closes is never sent
// (counted as held).
func (g *Gate) Run(ctx context.Context, in <-chan stages.Audio, out chan<- stages.Audio) error {
	st := g.Start(ctx, out)
	for {
		a, ok, err := stages.Recv(ctx, in)
		if err != nil {
			st.Close(false)
			return err
		}
		if !ok {
			st.Close(true)
			return nil
		}
		if err := st.Frame(a); err != nil {
			st.Close(false)
			return err
		}
	}
}

// Stepper is the gate driven frame by frame on its caller's goroutine,
// instead of reading a channel of its own: the same machine as Run, for a
// caller that produces the audio itself (the session's ingest step), so a
// frame crosses no goroutine between decoding and gating. A Stepper owns
// out: its sends select on ctx, and Close closes out. Not safe for
// concurrent use; one Stepper per Gate.
type Stepper struct {
	r   *gateRun
	out chan<- stages.Audio
}

// Start begins the gate's run on out (making its detector) and returns
// its Stepper. The caller must Close it.
func (g *Gate) Start(ctx context.Context, out chan<- stages.Audio) *Stepper {
	g.deps.Metrics.sessions(g.mode).Inc()
	r := g.newRun(ctx, out)
	if g.mode != Off {
		det, err := newDetection(g.deps.NewDetector, g.rateHz, g.cfg.Threshold)
		if err != nil {
			g.failOpen(err)
		} else {
			r.det = det
		}
	}
	return &Stepper{r: r, out: out}
}

// Frame gates one Audio, which passes to the gate (it is released or
// sent on). Audio with no samples is dropped. It returns ctx's error when
// a send was cut by a hard stop; the caller then stops and Closes.
func (s *Stepper) Frame(a stages.Audio) error {
	if a.Samples() == 0 {
		a.Release()
		return nil
	}
	return s.r.frame(a)
}

// Close ends the run and closes out. inputEnded is the soft stop (the
// audio ended): pre-roll still held is counted as held, never sent. After
// a hard stop (false) the pre-roll's buffers are only given back.
func (s *Stepper) Close(inputEnded bool) {
	if inputEnded {
		s.r.end()
	} else {
		s.r.clearPreroll()
	}
	close(s.out)
}

// failOpen turns the gate off for the rest of the session, loudly.
func (g *Gate) failOpen(err error) {
	g.failedOpen.Store(true)
	g.deps.Metrics.FailOpens.Inc()
	g.log.Error("vad gate failed; sending all audio upstream for the rest of the session",
		"mode", string(g.mode), "err", err)
}

// seconds converts samples at the gate's rate.
func (g *Gate) seconds(samples int64) float64 { return stages.SamplesToSeconds(samples, g.rateHz) }
