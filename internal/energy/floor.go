package energy

import "math"

// The adaptive rule's tuning, for frames of FrameMs (the local engine's
// endpointing was tuned with these values; changing any of them changes
// where its utterances start and end).
const (
	// FloorMarginDB: a frame is speech when its energy is this far
	// (in dB) above the noise floor...
	FloorMarginDB = 12.0
	// FloorMinDB: ...and at least this loud (dBFS).
	FloorMinDB = -60.0
	// FloorWindow frames (1.5 s): the noise floor is the lowest
	// smoothed frame energy of the last FloorWindow frames; speech has
	// gaps far shorter than that.
	FloorWindow = 150
	// FloorSmooth frames are averaged before taking the minimum, so
	// that one silent frame does not pull the floor down.
	FloorSmooth = 3
	// FloorStartDB caps the floor (dBFS) until FloorWindow frames have
	// been seen, in case the stream starts with speech.
	FloorStartDB = -50.0
)

// Floor is the adaptive rule: a minimum-statistics noise floor over one
// stream's frame energies, and the speech decision against it.
//
// Each frame's energy (Level.DBFS) is averaged with the previous
// FloorSmooth−1 frames' (fewer at the start); the floor is the minimum of
// those averages over the last FloorWindow frames, the current one
// included, capped at FloorStartDB while fewer than FloorWindow frames
// have been seen. A frame is speech when its own energy is at least the
// floor plus FloorMarginDB and at least FloorMinDB. So a steady sound
// longer than FloorWindow frames becomes the floor and stops being
// speech, while speech, with its short gaps, stays well above it.
//
// The zero Floor is ready for use, costs about 1.2 KB and never
// allocates. It is not safe for concurrent use.
type Floor struct {
	recent [FloorSmooth]float64 // the last frame energies, dBFS
	window [FloorWindow]float64 // the last smoothed energies, dBFS
	n      int                  // frames seen
}

// Observe takes the energy of the stream's next frame, in dBFS, and
// returns the noise floor that frame is judged against, in dBFS.
func (f *Floor) Observe(dbfs float64) float64 {
	f.recent[f.n%FloorSmooth] = dbfs
	var smooth float64
	k := min(f.n+1, FloorSmooth)
	for _, v := range f.recent[:k] {
		smooth += v
	}
	f.window[f.n%FloorWindow] = smooth / float64(k)
	f.n++
	floor := math.Inf(1)
	for _, v := range f.window[:min(f.n, FloorWindow)] {
		floor = min(floor, v)
	}
	if f.n < FloorWindow {
		floor = min(floor, FloorStartDB)
	}
	return floor
}

// Speech takes the energy of the stream's next frame, in dBFS (normally
// Level.DBFS of a FrameMs frame), and reports whether that frame is
// speech by the adaptive rule.
func (f *Floor) Speech(dbfs float64) bool {
	floor := f.Observe(dbfs)
	return dbfs >= floor+FloorMarginDB && dbfs >= FloorMinDB
}

// Frames returns the number of frames observed.
func (f *Floor) Frames() int {
	return f.n
}
