package energy_test

import (
	"fmt"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/energy"
)

// write passes b to m in writes of the given sizes, in turn (the last
// size repeats), and returns every frame completed.
func write(m *energy.Meter, b []byte, sizes ...int) []energy.Frame {
	var frames []energy.Frame
	for i := 0; len(b) > 0; i++ {
		n := min(sizes[min(i, len(sizes)-1)], len(b))
		frames = m.Append(frames, b[:n])
		b = b[n:]
	}
	return frames
}

// gridFrames is the reference: the whole frames of samples at rate, each
// measured by gridLevel.
func gridFrames(samples []int16, rate int) []energy.Frame {
	var want []energy.Frame
	for k := int64(0); ; k++ {
		from, to := k*int64(rate)/100, (k+1)*int64(rate)/100
		if to > int64(len(samples)) {
			return want
		}
		sumSq, peak := gridLevel(samples, from, to)
		want = append(want, energy.Frame{
			Index: k,
			Start: from,
			Level: energy.Level{Samples: int(to - from), SumSq: sumSq, Peak: peak},
		})
	}
}

func TestMeterGrid(t *testing.T) {
	for _, tc := range []struct {
		rate  int
		first []int // the lengths of the first frames
	}{
		{8000, []int{80, 80, 80, 80}},
		{16000, []int{160, 160, 160, 160}},
		{22050, []int{220, 221, 220, 221}}, // 220.5 samples a frame
		{44100, []int{441, 441, 441, 441}},
	} {
		// One second and 37 samples: 100 whole frames and a partial one.
		samples := ramp(tc.rate + 37)
		b := pcm(samples)
		want := gridFrames(samples, tc.rate)
		td.Require(t).Len(want, 100)
		for _, sizes := range [][]int{{len(b)}, {1}, {3}, {7, 1}, {159}, {321, 2, 5}, {999}, {4097}} {
			t.Run(fmt.Sprint(tc.rate, sizes), func(t *testing.T) {
				m := energy.NewMeter(tc.rate)
				got := write(m, b, sizes...)
				td.Cmp(t, got, want)
				var lens []int
				for _, f := range got[:len(tc.first)] {
					lens = append(lens, f.Samples)
				}
				td.Cmp(t, lens, tc.first, "frame lengths")
				td.Cmp(t, got[99].Start, int64(99*tc.rate/100), "frame 99 starts 990 ms in")
				index, pending := m.Pending()
				td.Cmp(t, index, int64(100))
				td.Cmp(t, pending.Samples, 37, "the partial frame is carried")
			})
		}
	}
}

func TestMeterCarriesPartialFrames(t *testing.T) {
	samples := square(nil, 160, 1200)
	b := pcm(samples)
	m := energy.NewMeter(16000)

	td.CmpNil(t, m.Append(nil, b[:2*159+1]), "159 samples and a byte: no frame yet")
	index, pending := m.Pending()
	td.Cmp(t, index, int64(0))
	td.Cmp(t, pending, energy.Level{Samples: 159, SumSq: 159 * 1200 * 1200, Peak: 1200},
		"the half sample is not counted")

	td.Cmp(t, m.Append(nil, b[2*159+1:]), []energy.Frame{{
		Index: 0,
		Start: 0,
		Level: energy.Level{Samples: 160, SumSq: 160 * 1200 * 1200, Peak: 1200},
	}}, "the last byte completes the sample and the frame")

	td.CmpNil(t, m.Append(nil, nil), "an empty write")
	td.CmpNil(t, m.Append(nil, []byte{0x01}), "half of the next frame's first sample")
	index, pending = m.Pending()
	td.Cmp(t, index, int64(1))
	td.Cmp(t, pending, energy.Level{})

	dst := make([]energy.Frame, 1, 4)
	got := m.Append(dst, pcm(square(nil, 400, 0))[1:])
	td.Cmp(t, got, td.Len(3), "Append appends to dst")
	td.Cmp(t, got[1].Index, int64(1))
	td.Cmp(t, got[1].Peak, 1, "the carried byte is the low byte of frame 1's first sample")
	td.Cmp(t, got[2].Start, int64(320))
}

func TestMeterFrameAtAGlance(t *testing.T) {
	// A frame measured by a Meter is the Level Measure gives its samples.
	samples := ramp(3 * 80)
	got := energy.NewMeter(8000).Append(nil, pcm(samples))
	td.Require(t).Len(got, 3)
	for k, f := range got {
		td.Cmp(t, f.Level, energy.Measure(samples[80*k:80*(k+1)]), "frame %d", k)
	}
}

func TestMeterBelowFramesPerSecond(t *testing.T) {
	// At 50 Hz the grid alternates frames of 0 and 1 sample; the meter
	// keeps the emulator's historical placement: sample 0 in frame 0,
	// sample j > 0 in the grid frame of sample j−1, empty frames emitted.
	lvl := func(s int) energy.Level { return energy.Level{Samples: 1, SumSq: int64(s * s), Peak: s} }
	got := write(energy.NewMeter(50), pcm([]int16{10, 20, 30}), 1)
	td.Cmp(t, got, []energy.Frame{
		{Index: 0, Start: 0, Level: lvl(10)},
		{Index: 1, Start: 0, Level: lvl(20)},
		{Index: 2, Start: 1, Level: energy.Level{}},
		{Index: 3, Start: 1, Level: lvl(30)},
		{Index: 4, Start: 2, Level: energy.Level{}},
	})
	// At 1 Hz (a rate below 1 is taken as 1) frame 99 is the first
	// with a sample on the grid.
	got = energy.NewMeter(0).Append(nil, pcm([]int16{5}))
	td.Cmp(t, got, td.Len(99), "frame 0 and the empty frames 1 to 98")
	td.Cmp(t, got[0], energy.Frame{Index: 0, Start: 0, Level: lvl(5)})
	td.Cmp(t, got[98], energy.Frame{Index: 98, Start: 0})
}
