package resample_test

import (
	"math"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/resample"
)

// sine is n samples of a sine at freq Hz and amplitude amp, at rate Hz.
func sine(n, rate int, freq, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return s
}

// rms of s after skip samples (the filter's start-up).
func rms(s []int16, skip int) float64 {
	var sum float64
	for _, v := range s[skip:] {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)-skip))
}

func TestRatesKeepASineAndTheLength(t *testing.T) {
	for _, c := range []struct{ in, out int }{{48000, 16000}, {8000, 16000}, {44100, 16000}, {16000, 8000}, {22050, 16000}} {
		in := sine(c.in, c.in, 440, 10000) // one second
		out := resample.New(c.in, c.out).Int16(nil, in)
		td.Cmp(t, len(out), td.Between(c.out-c.out/100, c.out), "%d→%d Hz: about one second out", c.in, c.out)
		td.Cmp(t, rms(out, c.out/50), td.N(rms(in, c.in/50), 150.0), "%d→%d Hz: a 440 Hz tone keeps its level", c.in, c.out)
	}
}

func TestLowPass(t *testing.T) {
	// 7 kHz is above 8 kHz audio's Nyquist frequency: gone after 48→8 kHz.
	out := resample.New(48000, 8000).Int16(nil, sine(48000, 48000, 7000, 10000))
	td.Cmp(t, rms(out, 400), td.Lt(100.0))
}

func TestFramesAreSeamless(t *testing.T) {
	in := sine(9000, 44100, 300, 8000)
	whole := resample.New(44100, 16000).Int16(nil, in)
	r := resample.New(44100, 16000)
	var parts []int16
	for off := 0; off < len(in); off += 333 {
		parts = r.Int16(parts, in[off:min(off+333, len(in))])
	}
	td.Cmp(t, parts, whole)
}

func TestFloatMatchesInt16AndClamps(t *testing.T) {
	in := sine(4800, 48000, 440, 16000)
	f := make([]float32, len(in))
	for i, v := range in {
		f[i] = float32(v) / 32768
	}
	ints := resample.New(48000, 16000).Int16(nil, in)
	floats := resample.New(48000, 16000).Float(nil, f)
	td.Require(t).Cmp(len(floats), len(ints))
	for i := range ints {
		td.Cmp(t, float64(floats[i])*32768, td.N(float64(ints[i]), 1.0), "sample %d", i)
	}
	loud := resample.New(8000, 16000).Float(nil, []float32{1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1})
	td.Cmp(t, loud, td.ArrayEach(td.Between(float32(-1), float32(1))))
}
