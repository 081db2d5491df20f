package silero_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/gate"
	"earshot/stages/silero"
	"earshot/stages/stagestest"
)

// session is one fixture's audio, in 20 ms frames.
type session struct {
	name   string
	rateHz int
	frames []stages.Audio
}

// runGate runs an active gate over s with detectors from newDet and
// returns what it sent and its counts.
func runGate(t *testing.T, newDet stages.DetectorFactory, s session) ([]stages.Audio, gate.Stats) {
	t.Helper()
	g := gate.New(gate.Config{Mode: gate.Active}, s.rateHz, gate.Deps{
		NewDetector: newDet, Metrics: gate.NewMetrics(metrics.NewSet()), Logger: slog.New(slog.DiscardHandler),
	})
	in := make(chan stages.Audio, len(s.frames))
	for _, f := range s.frames {
		f.PCM = append([]byte(nil), f.PCM...) // the gate owns what it gets
		in <- f
	}
	close(in)
	out := make(chan stages.Audio)
	done := make(chan error, 1)
	go func() { done <- g.Run(context.Background(), in, out) }()
	var sent []stages.Audio
	for a := range out {
		sent = append(sent, a)
	}
	td.CmpNoError(t, <-done)
	return sent, g.Stats()
}

// TestGateOnBatcher: the VAD gate over every fixture, all the sessions at
// once on one Batcher (fake time: every wait for a batch is real), sends
// exactly what it sends with a detector of its own per session
// (silero.Detectors); once the Batcher is closed, a gate fails open.
func TestGateOnBatcher(t *testing.T) {
	m := model(t)
	wavs, err := filepath.Glob(filepath.Join(repoRoot(t), "fixtures", "speech-synth", "*.wav"))
	td.Require(t).CmpNoError(err)
	var sessions []session
	for _, w := range wavs {
		pcm, rate, _ := readWAV(t, w)
		sessions = append(sessions, session{filepath.Base(w), rate, stagestest.Cut(pcm, rate, rate/50)})
	}
	td.Require(t).NotEmpty(sessions)
	type result struct {
		sent  []stages.Audio
		stats gate.Stats
	}
	want := make([]result, len(sessions))
	for i, s := range sessions {
		want[i].sent, want[i].stats = runGate(t, silero.Detectors(m), s)
		td.Cmp(t, want[i].stats.Onsets, td.Gt(int64(0)), "%s: speech found", s.name)
	}
	synctest.Test(t, func(t *testing.T) {
		bt := silero.NewBatcher(m, silero.BatchConfig{}, silero.BatchDeps{})
		got := make([]result, len(sessions))
		var wg sync.WaitGroup
		for i, s := range sessions {
			wg.Go(func() { got[i].sent, got[i].stats = runGate(t, bt.Detectors(), s) })
		}
		wg.Wait()
		for i, s := range sessions {
			td.Cmp(t, got[i], want[i], s.name)
		}
		bt.Close()
		_, st := runGate(t, bt.Detectors(), sessions[0])
		td.CmpTrue(t, st.FailedOpen, "after Close")
	})
}
