package stages

import (
	"encoding/binary"
	"fmt"

	"earshot/internal/resample"
)

// SpeechDetector scores one stream's audio for speech, window by window
// (Silero VAD in production).
//
// A detector belongs to one stream: it may carry state from one window to
// the next, and it is not safe for concurrent use. The gate feeds it
// consecutive windows of exactly WindowSamples samples of the stream, at
// the rate the detector was made for (8000 or 16000 Hz), as float32 in
// [-1, 1) (the int16 sample / 32768). It must not retain window after
// Speech returns.
type SpeechDetector interface {
	// WindowSamples is the fixed window size in samples, e.g. 512 at
	// 16 kHz and 256 at 8 kHz for Silero VAD. It must be positive.
	WindowSamples() int
	// Speech returns the probability, in [0, 1], that window holds
	// speech. An error, a panic or a probability outside [0, 1] turns
	// the session's gate off for the rest of the session (fail open).
	Speech(window []float32) (float32, error)
}

// DetectorFactory makes the detector of one stream at sampleRateHz (only
// ever 8000 or 16000). One factory serves every session of a server: it
// must be safe for concurrent use. An error turns that session's gate off
// (fail open).
type DetectorFactory func(sampleRateHz int) (SpeechDetector, error)

// DetectorRateHz is the rate a detector runs at for audio at rateHz: 8 kHz
// audio runs on the 8 kHz branch, every other rate is resampled to 16 kHz
// (for the detector only; the audio sent upstream is never changed).
func DetectorRateHz(rateHz int) int {
	if rateHz == 8000 {
		return 8000
	}
	return 16000
}

// detection turns a stream's frames into per-frame speech verdicts: it
// converts (and, when needed, resamples) each frame, cuts the result into
// windows carrying samples across frames, and scores every full window.
// Not safe for concurrent use.
type detection struct {
	det       SpeechDetector
	threshold float64
	rs        *resample.Resampler // nil at 8 or 16 kHz
	win       []float32           // the window being filled
	in, out   []float32           // scratch for the converted and resampled frame
	last      bool                // the verdict of the latest full window
}

// newDetection makes the detector for a stream at rateHz.
func newDetection(newDet DetectorFactory, rateHz int, threshold float64) (d *detection, err error) {
	defer recoverDetector(&err)
	if rateHz <= 0 {
		return nil, fmt.Errorf("%w: audio at %d Hz", ErrDetector, rateHz)
	}
	detRate := DetectorRateHz(rateHz)
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
