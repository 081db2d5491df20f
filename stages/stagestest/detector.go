package stagestest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"earshot/stages"
)

// ErrDetectorFailed is the error a Detector fails with when Detectors.Err
// is nil.
var ErrDetectorFailed = errors.New("fake detector failed")

// Detectors is a deterministic stages.DetectorFactory for tests (use its
// New method value). By default a window scores 0.9 when its peak |sample|
// reaches Level and 0.05 otherwise, so that loud audio is speech and quiet
// audio silence. Set the fields before the first New; they are read-only
// afterwards.
type Detectors struct {
	// Level is the peak |sample| (in [-1, 1)) at which a window is
	// speech. Default 0.1 (3277 as int16).
	Level float32
	// Prob, when set, scores each window instead: i is the window's index
	// in its stream (0 first).
	Prob func(i int64, window []float32) float32
	// Window is the window size in samples. Default Silero's: 512 at
	// 16 kHz, 256 at 8 kHz.
	Window int
	// FailAt > 0 makes the FailAt-th window of every detector (1-based)
	// fail: with Err (default ErrDetectorFailed), or by panicking when
	// Panic is set.
	FailAt int64
	Err    error
	Panic  bool
	// NewErr, when set, makes New fail.
	NewErr error
	// Record keeps a copy of every window scored (see Detector.Seen).
	Record bool

	mu   sync.Mutex
	made []*Detector
}

// New makes a Detector for a stream at rateHz (8000 or 16000; any other
// rate is an error: the gate resamples first).
func (f *Detectors) New(rateHz int) (stages.SpeechDetector, error) {
	if f.NewErr != nil {
		return nil, f.NewErr
	}
	win := f.Window
	switch {
	case rateHz != 8000 && rateHz != 16000:
		return nil, fmt.Errorf("fake detector: rate %d Hz not supported", rateHz)
	case win == 0 && rateHz == 8000:
		win = 256
	case win == 0:
		win = 512
	}
	d := &Detector{RateHz: rateHz, f: f, win: win}
	f.mu.Lock()
	f.made = append(f.made, d)
	f.mu.Unlock()
	return d, nil
}

// Made returns the detectors made so far, in order.
func (f *Detectors) Made() []*Detector {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*Detector(nil), f.made...)
}

// Detector is one stream's fake detector.
type Detector struct {
	// RateHz is the rate it was made for.
	RateHz int

	f       *Detectors
	win     int
	windows atomic.Int64
	mu      sync.Mutex
	seen    [][]float32
}

var _ stages.SpeechDetector = (*Detector)(nil)

// WindowSamples is the window size.
func (d *Detector) WindowSamples() int { return d.win }

// Speech scores one window.
func (d *Detector) Speech(window []float32) (float32, error) {
	i := d.windows.Add(1) - 1
	if len(window) != d.win {
		return 0, fmt.Errorf("fake detector: window of %d samples, want %d", len(window), d.win)
	}
	if d.f.Record {
		d.mu.Lock()
		d.seen = append(d.seen, append([]float32(nil), window...))
		d.mu.Unlock()
	}
	if d.f.FailAt > 0 && i+1 == d.f.FailAt {
		if d.f.Panic {
			panic("fake detector panics")
		}
		if d.f.Err != nil {
			return 0, d.f.Err
		}
		return 0, ErrDetectorFailed
	}
	if d.f.Prob != nil {
		return d.f.Prob(i, window), nil
	}
	level := d.f.Level
	if level == 0 {
		level = 0.1
	}
	for _, s := range window {
		if s >= level || s <= -level {
			return 0.9, nil
		}
	}
	return 0.05, nil
}

// Windows counts the windows scored.
func (d *Detector) Windows() int64 { return d.windows.Load() }

// Seen returns the windows scored, when Detectors.Record is set.
func (d *Detector) Seen() [][]float32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([][]float32(nil), d.seen...)
}
