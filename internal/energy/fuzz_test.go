package energy_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/energy"
)

// FuzzMeter: writing the same PCM in pieces cut at arbitrary points (odd
// byte offsets and empty writes included) gives the same frames, and
// leaves the same partial frame, as writing it whole; at rates of
// FramesPerSecond Hz and above the frames are the grid's, measured by the
// definitions.
func FuzzMeter(f *testing.F) {
	f.Add(uint32(16000), pcm(ramp(1000)), []byte{0, 1, 2, 159, 255, 3})
	f.Add(uint32(8000), pcm(ramp(333)), []byte{7})
	f.Add(uint32(22050), append(pcm(ramp(900)), 0x80), []byte{1, 0, 220, 221})
	f.Add(uint32(44100), pcm(ramp(2000)), []byte{255, 254, 1})
	f.Add(uint32(50), pcm(ramp(20)), []byte{1, 2, 3})
	f.Add(uint32(0), []byte{0x01}, []byte{})
	f.Fuzz(func(t *testing.T, rate uint32, b, cuts []byte) {
		hz := int(rate % 200000)
		wholeM := energy.NewMeter(hz)
		whole := wholeM.Append(nil, b)

		// Each cut byte is the size of the next write (0 to 255); the
		// rest goes in one write.
		splitM := energy.NewMeter(hz)
		var split []energy.Frame
		rest := b
		for _, c := range cuts {
			n := min(int(c), len(rest))
			split = splitM.Append(split, rest[:n])
			rest = rest[n:]
		}
		split = splitM.Append(split, rest)

		td.Cmp(t, split, whole, "frames")
		wi, wl := wholeM.Pending()
		si, sl := splitM.Pending()
		td.Cmp(t, si, wi, "pending frame")
		td.Cmp(t, sl, wl, "pending samples")

		if hz < energy.FramesPerSecond {
			return
		}
		samples := make([]int16, len(b)/2)
		for i := range samples {
			samples[i] = int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
		}
		td.Cmp(t, whole, gridFrames(samples, hz), "the grid's frames")
		start := wi * int64(hz) / energy.FramesPerSecond
		td.Cmp(t, wl, energy.Measure(samples[start:]), "the partial frame")
	})
}
