package gate

import (
	"encoding/binary"
	"fmt"

	"earshot/internal/resample"
	"earshot/stages"
)

// detection turns a stream's frames into per-frame speech verdicts: it
// converts (and, when needed, resamples) each frame, cuts the result into
// windows carrying samples across frames, and scores every full window.
// Not safe for concurrent use.
type detection struct {
	det       stages.SpeechDetector
	threshold float64
	rs        *resample.Resampler // nil at 8 or 16 kHz
	win       []float32           // the window being filled
	in, out   []float32           // scratch for the converted and resampled frame
	last      bool                // the verdict of the latest full window
}

// newDetection makes the detector for a stream at rateHz.
func newDetection(newDet stages.DetectorFactory, rateHz int, threshold float64) (d *detection, err error) {
	defer recoverDetector(&err)
	if rateHz <= 0 {
		return nil, fmt.Errorf("%w: audio at %d Hz", ErrDetector, rateHz)
	}
	detRate := stages.DetectorRateHz(rateHz)
	det, err := newDet(detRate)
	if err != nil {
		return nil, fmt.Errorf("%w: new detector at %d Hz: %w", ErrDetector, detRate, err)
	}
	if det == nil {
		return nil, fmt.Errorf("%w: the factory returned no detector", ErrDetector)
	}
	n := det.WindowSamples()
	if n <= 0 {
		return nil, fmt.Errorf("%w: window of %d samples", ErrDetector, n)
	}
	d = &detection{det: det, threshold: threshold, win: make([]float32, 0, n)}
	if detRate != rateHz {
		d.rs = resample.New(rateHz, detRate)
	}
	return d, nil
}

// frame reports whether the frame pcm holds speech: whether any window
// that became full within it scored above the threshold. A frame in which
// no window became full (frames shorter than a window) takes the verdict
// of the latest full window. Any error wraps ErrDetector; a panic inside
// the detector is recovered into one.
func (d *detection) frame(pcm []byte) (_ bool, err error) {
	defer recoverDetector(&err)
	d.in = d.in[:0]
	for i := 0; i+1 < len(pcm); i += 2 {
		d.in = append(d.in, float32(int16(binary.LittleEndian.Uint16(pcm[i:])))/32768)
	}
	samples := d.in
	if d.rs != nil {
		d.out = d.rs.Float(d.out[:0], d.in)
		samples = d.out
	}
	full, speech := false, false
	for len(samples) > 0 {
		k := min(cap(d.win)-len(d.win), len(samples))
		d.win = append(d.win, samples[:k]...)
		samples = samples[k:]
		if len(d.win) < cap(d.win) {
			break
		}
		p, derr := d.det.Speech(d.win)
		d.win = d.win[:0]
		if derr != nil {
			return false, fmt.Errorf("%w: %w", ErrDetector, derr)
		}
		if !(p >= 0 && p <= 1) { // also catches NaN
			return false, fmt.Errorf("%w: probability %v out of [0, 1]", ErrDetector, p)
		}
		d.last = float64(p) > d.threshold
		full, speech = true, speech || d.last
	}
	if !full {
		return d.last, nil
	}
	return speech, nil
}

// recoverDetector turns a panic inside a detector into an error wrapping
// ErrDetector (deferred).
func recoverDetector(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: panic: %v", ErrDetector, r)
	}
}
