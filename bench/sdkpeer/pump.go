package sdkpeer

import (
	"sync/atomic"
	"time"
)

// Writes is what the application saw of its audio writes.
type Writes struct {
	Durs     Durations // one per write call
	Handed   int       // bytes passed to write calls
	Errors   int       // write calls that returned an error
	FirstErr error
	// MaxLate is how far behind its schedule the audio thread fell (a
	// write that blocks delays every later frame): the application had to
	// hold MaxLate·pace of audio itself, or lose it.
	MaxLate time.Duration
}

// pump plays the application's audio thread: frame i (100 ms of audio) is
// due at t0 + i·100 ms / pace, and is handed to write when due, or at once
// if a previous write blocked past that time (the application keeps every
// frame; only the client can lose it). It stops early when stop is set.
func pump(sig Signal, pace float64, t0 time.Time, write func([]byte) error, stop *atomic.Bool) Writes {
	var w Writes
	for i, off := 0, 0; off < len(sig.PCM); i, off = i+1, off+FrameBytes {
		if stop != nil && stop.Load() {
			break
		}
		due := t0.Add(time.Duration(float64(i) * float64(FrameMs*time.Millisecond) / pace))
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		frame := sig.PCM[off:min(off+FrameBytes, len(sig.PCM))]
		began := time.Now()
		w.MaxLate = max(w.MaxLate, began.Sub(due))
		err := write(frame)
		w.Durs = append(w.Durs, time.Since(began))
		w.Handed += len(frame)
		if err != nil {
			w.Errors++
			if w.FirstErr == nil {
				w.FirstErr = err
			}
		}
	}
	return w
}
