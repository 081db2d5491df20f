package silero_test

import (
	"math"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages/silero"
)

func TestDetectors(t *testing.T) {
	m := model(t)
	newDet := silero.Detectors(m)
	for rate, window := range map[int]int{16000: 512, 8000: 256} {
		d, err := newDet(rate)
		td.Require(t).CmpNoError(err)
		td.Cmp(t, d.WindowSamples(), window, "%d Hz", rate)
		ref, err := m.NewStream(rate)
		td.Require(t).CmpNoError(err)
		chunk := make([]float32, window)
		for k := range 4 { // state carried: the same as a Stream's
			for i := range chunk {
				chunk[i] = float32(0.3 * math.Sin(float64(k*window+i)*0.05))
			}
			p, err := d.Speech(chunk)
			td.CmpNoError(t, err)
			td.Cmp(t, p, ref.Process(chunk), "%d Hz, chunk %d", rate, k)
		}
	}
	_, err := newDet(44100)
	td.CmpErrorIs(t, err, silero.ErrSampleRate)
}
