//go:build pocketsphinx

package local

import "math"

// Speech detector tuning (16 kHz frames of 10 ms).
const (
	vadFrame = 160
	// vadMarginDB: a frame is speech when its energy is this far above
	// the noise floor...
	vadMarginDB = 12.0
	// vadMinDB: ...and above this absolute level (dBFS).
	vadMinDB = -60.0
	// vadWindow frames: the noise floor is the lowest (smoothed) frame
	// energy of the last 1.5 s; speech has gaps far shorter than that.
	vadWindow = 150
	// vadSmooth frames are averaged before taking the minimum, so that
	// one silent frame does not pull the floor down.
	vadSmooth = 3
	// vadFloorStartDB caps the floor until the window is full, in case
	// the stream starts with speech.
	vadFloorStartDB = -50.0
	// vadOnsetFrames consecutive speech frames start an utterance.
	vadOnsetFrames = 3
	// vadPrerollMs of audio before the onset are decoded with it.
	vadPrerollMs = 300
	// vadTailMs of non-speech after speech are decoded with it.
	vadTailMs = 150
)

// detector is an energy speech detector over a minimum-statistics noise
// floor.
type detector struct {
	recent [vadSmooth]float64 // last frame energies, dBFS
	window [vadWindow]float64 // last smoothed energies
	n      int                // frames seen
}

// speech classifies one frame (any length > 0).
func (d *detector) speech(frame []int16) bool {
	var sum float64
	for _, s := range frame {
		v := float64(s)
		sum += v * v
	}
	e := 10 * math.Log10(sum/float64(len(frame))/(32768*32768)+1e-10) // ≥ -100 dBFS
	d.recent[d.n%vadSmooth] = e
	var smooth float64
	k := min(d.n+1, vadSmooth)
	for _, v := range d.recent[:k] {
		smooth += v
	}
	d.window[d.n%vadWindow] = smooth / float64(k)
	d.n++
	floor := math.Inf(1)
	for _, v := range d.window[:min(d.n, vadWindow)] {
		floor = min(floor, v)
	}
	if d.n < vadWindow {
		floor = min(floor, vadFloorStartDB)
	}
	return e >= floor+vadMarginDB && e >= vadMinDB
}
