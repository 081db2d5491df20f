package gate_test

import (
	"context"
	"strconv"
	"testing"

	"earshot/stages"
	"earshot/stages/gate"
	"earshot/stages/stagestest"
)

// BenchmarkGate measures the gate's own cost (conversion, resampling,
// windows, state machine; the fake detector costs next to nothing) per
// second of 100 ms frames, half speech.
func BenchmarkGate(b *testing.B) {
	for _, rateHz := range []int{16000, 48000} {
		b.Run(strconv.Itoa(rateHz), func(b *testing.B) {
			frames := stagestest.Cut(stagestest.Capture(rateHz, stagestest.Speech(500), stagestest.Silence(500)), rateHz, rateHz/10)
			r := newGateRig(gate.Config{Mode: gate.Active}, rateHz, (&stagestest.Detectors{}).New)
			in, out := make(chan stages.Audio), make(chan stages.Audio, 64)
			go func() {
				for range out {
				}
			}()
			done := make(chan error, 1)
			go func() { done <- r.g.Run(context.Background(), in, out) }()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				for _, f := range frames {
					in <- f
				}
			}
			close(in)
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/audio-s")
		})
	}
}
