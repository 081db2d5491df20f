package energy_test

import (
	"math"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/energy"
)

func TestMeasure(t *testing.T) {
	td.Cmp(t, energy.Measure([]int16{3, -4, -32768, 0, 32767}), energy.Level{
		Samples: 5,
		SumSq:   9 + 16 + 32768*32768 + 32767*32767,
		Peak:    32768,
	})
	td.Cmp(t, energy.Measure(nil), energy.Level{})

	l := energy.Measure(square(nil, 160, 1234))
	td.Cmp(t, l.MeanSquare(), 1234.0*1234)
	td.Cmp(t, l.RMS(), 1234.0, "a square wave's RMS is its amplitude")
	td.Cmp(t, l.Peak, 1234)

	var empty energy.Level
	td.Cmp(t, empty.MeanSquare(), 0.0)
	td.Cmp(t, empty.RMS(), 0.0)
}

func TestLoudAtTheThreshold(t *testing.T) {
	td.Cmp(t, energy.LoudRMS, 1000)
	for _, tc := range []struct {
		amp  int
		loud bool
	}{
		{999, false},
		{1000, false}, // RMS must be above LoudRMS
		{1001, true},
		{32767, true},
		{0, false},
	} {
		for _, n := range []int{80, 160, 220, 221, 441} { // 10 ms at 8, 16, 22.05, 44.1 kHz
			l := energy.Measure(square(nil, n, tc.amp))
			td.Cmp(t, l.Loud(), tc.loud, "square wave of amplitude %d, %d samples", tc.amp, n)
		}
	}

	// On the sum of squares: LoudRMS²·n is at the threshold, one more is
	// above it, exactly (no rounding through the square root).
	for _, n := range []int{1, 80, 160, 441, 4800} {
		at := int64(energy.LoudRMS*energy.LoudRMS) * int64(n)
		td.Cmp(t, energy.Level{Samples: n, SumSq: at - 1}.Loud(), false, "just below, %d samples", n)
		td.Cmp(t, energy.Level{Samples: n, SumSq: at}.Loud(), false, "at, %d samples", n)
		td.Cmp(t, energy.Level{Samples: n, SumSq: at + 1}.Loud(), true, "just above, %d samples", n)
	}
	td.Cmp(t, energy.Level{}.Loud(), false, "no samples")

	// A frame of 1000s with one sample nudged: the decision follows the
	// sign of the nudge.
	for _, d := range []int{-1, 0, 1} {
		s := square(nil, 160, 1000)
		s[7] = int16(-1000 + d)
		s[8] = int16(1000 + d)
		td.Cmp(t, energy.Measure(s).Loud(), d != 0, "nudged by %d", d)
	}
}

func TestDBFS(t *testing.T) {
	sine := make([]int16, 160)
	for i := range sine {
		sine[i] = int16(math.Round(32767 * math.Sin(2*math.Pi*1000*float64(i)/16000)))
	}
	for _, tc := range []struct {
		name string
		l    energy.Level
		want float64
		tol  float64
	}{
		{"full scale", energy.Level{Samples: 1, SumSq: 32768 * 32768}, 0, 1e-9},
		{"square 32767", energy.Measure(square(nil, 160, 32767)), 20 * math.Log10(32767.0/32768), 1e-9},
		{"full-scale sine", energy.Measure(sine), -3.0103, 0.001},
		{"LoudRMS", energy.Measure(square(nil, 160, energy.LoudRMS)), -30.309, 0.001},
		{"square 3277", energy.Measure(square(nil, 160, 3277)), -20.0, 0.001},
		// The silence term shows this low: −90.3 dBFS alone.
		{"one LSB", energy.Measure(square(nil, 160, 1)), 10 * math.Log10(1.0/(32768*32768)+1e-10), 1e-9},
		{"silence", energy.Measure(make([]int16, 160)), energy.SilenceDBFS, 1e-9},
		{"no samples", energy.Level{}, energy.SilenceDBFS, 1e-9},
	} {
		td.Cmp(t, tc.l.DBFS(), td.N(tc.want, tc.tol), tc.name)
	}
	td.Cmp(t, energy.Measure(make([]int16, 160)).DBFS(), energy.SilenceDBFS,
		"silence is exactly SilenceDBFS, the lowest value")
}
