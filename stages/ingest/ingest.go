package ingest

import (
	"context"
	"sync/atomic"

	"earshot/stages"
)

// MinAudioFrameBytes is the smallest binary frame that carries audio: the
// app answers the server's ping with two bytes (0x8A 0x00), so frames of two
// bytes or less are ignored, whatever the codec.
const MinAudioFrameBytes = 3

// Config configures the ingest stage.
type Config struct {
	// Codec of the client's binary frames; it must have passed
	// ParseCodec with SampleRateHz.
	Codec Codec
	// SampleRateHz of the session's audio, in and out.
	SampleRateHz int
	// Opus is the Opus decoder: OpusPion (the default, also for ""),
	// OpusLibopus, or OpusAuto (libopus where the build has it);
	// CheckOpusDecoder tells whether the build has it.
	Opus OpusDecoder
}

// Stats are a session's decoding counts, complete once Run has returned
// (safe to read concurrently at any time).
type Stats struct {
	// Samples is the audio sent on, in samples at the session's rate
	// (concealment included): the capture clock's reading.
	Samples int64
	// Packets is the number of binary frames decoded (audio frames of the
	// raw PCM codecs included).
	Packets int64
	// DecodeErrors is the number of frames (or, for lc3_fs1030, LC3
	// frames within them) that could not be decoded and were concealed.
	DecodeErrors int64
	// ConcealedSamples is the audio put in place of them: silence, or the
	// codec's own concealment.
	ConcealedSamples int64
}

// Ingest decodes a client's binary frames into Audio on the capture clock.
//
// Raw PCM frames are passed on without copying when they hold whole
// samples; a frame with an odd byte count leaves its last byte as half a
// sample, carried to the front of the next frame, never dropped (a half
// sample left when the input closes is discarded). Every other codec is
// decoded once, here, into 16-bit PCM at the session's rate.
//
// A packet that cannot be decoded (truncated, corrupt) never ends the
// session: it is counted (Stats, Metrics.DecodeErrors) and replaced by the
// codec's concealment or by silence as long as the last good packet
// (before any, the codec's nominal packet), so that the capture clock
// keeps its place and later words keep their times.
type Ingest struct {
	cfg  Config
	m    *Metrics
	info Info

	samples, packets, errs, concealed atomic.Int64
	tap                               func(stages.Audio)
}

// Tap makes Run call f with every Audio it sends on, just before sending
// it, on Run's goroutine: a downstream copy of the session's audio (the
// pusher's). f must not block and must not keep a.PCM past its return
// (copy what it keeps). Call Tap before Run.
func (g *Ingest) Tap(f func(a stages.Audio)) { g.tap = f }

// New returns an ingest stage for cfg. m may be nil (nothing counted
// server-wide).
func New(cfg Config, m *Metrics) *Ingest {
	info, _ := Lookup(cfg.Codec)
	return &Ingest{cfg: cfg, m: m, info: info}
}

// Samples reports the capture clock's reading: the samples sent on so far.
func (g *Ingest) Samples() int64 { return g.samples.Load() }

// Stats reports the session's decoding counts so far.
func (g *Ingest) Stats() Stats {
	return Stats{Samples: g.samples.Load(), Packets: g.packets.Load(), DecodeErrors: g.errs.Load(), ConcealedSamples: g.concealed.Load()}
}

// Run reads frames from in until it is closed or ctx is done, and sends
// decoded Audio on out, which it closes on return. The frames' backing
// arrays pass to Run: the sender of a frame must not reuse it (frames
// from stages.NewFrame go back to the free list once their audio is done
// with). Run returns ctx's error on a hard stop, a *FormatError if the
// codec's decoder cannot be built, and nil when in closes.
func (g *Ingest) Run(ctx context.Context, in <-chan []byte, out chan<- stages.Audio) error {
	defer close(out)
	return g.RunFunc(ctx, in, func(a stages.Audio) error {
		if err := stages.Send(ctx, out, a); err != nil {
			a.Release()
			return err
		}
		return nil
	})
}

// RunFunc is Run handing each decoded Audio to emit, on RunFunc's
// goroutine, instead of sending it on a channel: the session composes
// ingest and gate this way (emit is the gate's Stepper.Frame), so that a
// frame is decoded and gated without crossing goroutines. emit takes the
// Audio over (it releases or passes on its buffer, also when it fails);
// an error from emit ends RunFunc with that error.
func (g *Ingest) RunFunc(ctx context.Context, in <-chan []byte, emit func(stages.Audio) error) error {
	st, err := g.Start(emit)
	if err != nil {
		return err
	}
	defer st.Close()
	for {
		frame, ok, err := stages.Recv(ctx, in)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if err := st.Frame(frame); err != nil {
			return err
		}
	}
}
