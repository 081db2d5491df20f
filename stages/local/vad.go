//go:build pocketsphinx

package local

import "earshot/internal/energy"

// Speech detector tuning (16 kHz frames of 10 ms). The noise-floor rule
// and its constants (margin, absolute minimum, window, smoothing, start
// cap) are energy.Floor's.
const (
	vadFrame = ModelRateHz * energy.FrameMs / 1000 // 160 samples
	// vadOnsetFrames consecutive speech frames start an utterance.
	vadOnsetFrames = 3
	// vadPrerollMs of audio before the onset are decoded with it.
	vadPrerollMs = 300
	// vadTailMs of non-speech after speech are decoded with it.
	vadTailMs = 150
)

// detector is an energy speech detector over a minimum-statistics noise
// floor: energy.Floor's adaptive rule on energy.Measure's dBFS.
//
// It measures the frames stream.go cuts rather than cutting them with an
// energy.Meter, because the stream's frames follow its decoder chunks (a
// Finalize judges a short last frame, and the next frame starts where it
// ended), which a fixed grid would move.
type detector struct {
	floor energy.Floor
}

// speech classifies one frame (any length > 0).
func (d *detector) speech(frame []int16) bool {
	return d.floor.Speech(energy.Measure(frame).DBFS())
}
