package energy_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/energy"
)

// judged is one frame's verdict by the adaptive rule.
type judged struct {
	dbfs, floor float64
	speech      bool
}

// judge cuts samples (16 kHz) into frames with a Meter and runs each
// frame's energy through f, twice: Observe on a copy gives the floor,
// Speech on f the decision.
func judge(f *energy.Floor, samples []int16) []judged {
	var out []judged
	for _, fr := range energy.NewMeter(16000).Append(nil, pcm(samples)) {
		db := fr.DBFS()
		probe := *f
		out = append(out, judged{dbfs: db, floor: probe.Observe(db), speech: f.Speech(db)})
	}
	return out
}

// speechFrames counts the frames of js judged speech.
func speechFrames(js []judged) int {
	n := 0
	for _, j := range js {
		if j.speech {
			n++
		}
	}
	return n
}

// Noise of amplitude 180 is about −50 dBFS (RMS 180/√3 ≈ 104); a square
// wave of 3277 is −20 dBFS.
const (
	noiseAmp = 180
	toneAmp  = 3277
)

func TestFloorNoiseToneNoise(t *testing.T) {
	seed := uint32(1)
	var s []int16
	s = noise(s, 2*16000, noiseAmp, &seed) // frames 0-199
	s = square(s, 16000/2, toneAmp)        // frames 200-249
	s = noise(s, 2*16000, noiseAmp, &seed) // frames 250-449
	var f energy.Floor
	js := judge(&f, s)
	td.Require(t).Len(js, 450)
	td.Cmp(t, f.Frames(), 450)

	for i, j := range js[:200] {
		td.Cmp(t, j.dbfs, td.Between(-52.0, -48.0), "noise frame %d", i)
		td.Cmp(t, j.speech, false, "noise frame %d", i)
	}
	td.Cmp(t, js[0].floor, energy.FloorStartDB, "the start cap holds the floor at first")
	td.Cmp(t, js[199].floor, td.Between(-51.5, -50.0), "the floor is the noise by then")
	for i, j := range js[200:250] {
		td.Cmp(t, j.dbfs, td.N(-20.0, 0.001), "tone frame %d", 200+i)
		td.Cmp(t, j.floor, td.Between(-51.5, -50.0), "the floor stays at the noise under the tone, frame %d", 200+i)
		td.Cmp(t, j.speech, true, "tone frame %d", 200+i)
	}
	for i, j := range js[250:] {
		td.Cmp(t, j.speech, false, "noise frame %d after the tone", 250+i)
		td.Cmp(t, j.floor, td.Between(-51.5, -50.0), "noise frame %d after the tone", 250+i)
	}
}

func TestFloorFollowsASteadySound(t *testing.T) {
	// A tone longer than FloorWindow frames becomes the floor: it is
	// speech until the last window entry smoothed with the noise before
	// it leaves the window.
	seed := uint32(2)
	s := noise(nil, 2*16000, noiseAmp, &seed) // frames 0-199
	s = square(s, 3*16000, toneAmp)           // frames 200-499
	var f energy.Floor
	js := judge(&f, s)
	td.Cmp(t, speechFrames(js[:200]), 0)
	td.Cmp(t, speechFrames(js[200:200+energy.FloorWindow]), energy.FloorWindow,
		"the tone is speech for FloorWindow frames")
	td.Cmp(t, speechFrames(js[200+energy.FloorWindow:]), 0, "then it is the floor")
	td.Cmp(t, js[len(js)-1].floor, td.N(-20.0, 0.001))
}

func TestFloorStartCap(t *testing.T) {
	// A stream that starts with speech: the floor is capped at
	// FloorStartDB until FloorWindow frames have been seen.
	var f energy.Floor
	js := judge(&f, square(nil, 2*16000, toneAmp))
	td.Cmp(t, js[0].floor, energy.FloorStartDB)
	td.Cmp(t, speechFrames(js[:energy.FloorWindow-1]), energy.FloorWindow-1)
	td.Cmp(t, js[energy.FloorWindow-1].floor, td.N(-20.0, 0.001), "the cap ends with the first full window")
	td.Cmp(t, speechFrames(js[energy.FloorWindow-1:]), 0)
}

func TestFloorMinimumLevel(t *testing.T) {
	// Over digital silence (floor −100 dBFS) a sound is speech only
	// from FloorMinDB up. A square wave of 18 is −65.2 dBFS, 58 is
	// −55.0 dBFS.
	for _, tc := range []struct {
		amp    int
		speech int // of the sound's 10 frames
	}{{18, 0}, {58, 10}} {
		var f energy.Floor
		s := make([]int16, 2*16000)
		s = square(s, 16000/10, tc.amp)
		js := judge(&f, s)
		td.Cmp(t, js[199].floor, energy.SilenceDBFS)
		td.Cmp(t, js[200].dbfs, td.Between(-66.0, -54.0))
		td.Cmp(t, speechFrames(js[200:]), tc.speech, "amplitude %d", tc.amp)
	}
}

func TestFloorMargin(t *testing.T) {
	// After a long steady level L, a frame is speech from L+FloorMarginDB
	// up (the minimum is still L at the step).
	for _, tc := range []struct {
		dbfs   float64
		speech bool
	}{{-40.01, false}, {-40, true}, {-39.99, true}} {
		var f energy.Floor
		for range 2 * energy.FloorWindow {
			f.Speech(-52)
		}
		td.Cmp(t, f.Speech(tc.dbfs), tc.speech, "%g dBFS after −52", tc.dbfs)
	}
}
