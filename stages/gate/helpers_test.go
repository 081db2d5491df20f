package gate_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/gate"
	"earshot/stages/stagestest"
)

// rate is the sample rate of the gate tests' audio.
const rate = 16000

// gateRig is a gate under test with its metrics and log.
type gateRig struct {
	g   *gate.Gate
	m   *gate.Metrics
	set *metrics.Set
	log *bytes.Buffer
}

func newGateRig(cfg gate.Config, rateHz int, det stages.DetectorFactory) *gateRig {
	r := &gateRig{set: metrics.NewSet(), log: &bytes.Buffer{}}
	r.m = gate.NewMetrics(r.set)
	r.g = gate.New(cfg, rateHz, gate.Deps{
		NewDetector: det, Metrics: r.m, Logger: slog.New(slog.NewTextHandler(r.log, nil)),
	})
	return r
}

// run feeds frames through the gate and returns everything it sent.
func (r *gateRig) run(t *testing.T, frames []stages.Audio) []stages.Audio {
	t.Helper()
	in := make(chan stages.Audio, len(frames))
	for _, f := range frames {
		in <- f
	}
	close(in)
	out := make(chan stages.Audio)
	done := make(chan error, 1)
	go func() { done <- r.g.Run(context.Background(), in, out) }()
	var got []stages.Audio
	for a := range out {
		got = append(got, a)
	}
	td.CmpNoError(t, <-done)
	return got
}

// run is a merged run of gate output: contiguous audio with one mark, or
// a MarkHold (Start == End).
type run struct {
	Start, End int64
	Mark       stages.Mark
}

// runs merges the gate's output into runs, after checking that every
// sample sent is the captured sample at its Start and that a MarkHold
// carries no audio.
func runs(t *testing.T, src []byte, got []stages.Audio) []run {
	t.Helper()
	var out []run
	for _, a := range got {
		if a.Mark == stages.MarkHold {
			td.Cmp(t, len(a.PCM), 0, "a MarkHold carries no audio")
			out = append(out, run{a.Start, a.Start, a.Mark})
			continue
		}
		if !bytes.Equal(a.PCM, src[2*a.Start:2*a.End()]) {
			t.Errorf("audio at %d..%d is not the captured audio there", a.Start, a.End())
		}
		if k := len(out) - 1; k >= 0 && out[k].Mark == a.Mark && out[k].End == a.Start && out[k].Mark != stages.MarkHold {
			out[k].End = a.End()
			continue
		}
		out = append(out, run{a.Start, a.End(), a.Mark})
	}
	return out
}

// detectors returns a fake detector factory with 10 ms windows at 16 kHz
// (so that 100 ms frames hold whole windows and each frame's verdict is
// its own loudness).
func detectors() *stagestest.Detectors { return &stagestest.Detectors{Window: 160} }

// at converts milliseconds to samples at rate (16 kHz).
func at(v int) int64 { return int64(v) * rate / 1000 }
