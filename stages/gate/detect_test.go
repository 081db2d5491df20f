package gate_test

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/gate"
	"earshot/stages/stagestest"
)

// floats is src as the detector sees it at its own rate.
func floats(src []byte) []float32 {
	f := make([]float32, len(src)/2)
	for i := range f {
		f[i] = float32(int16(binary.LittleEndian.Uint16(src[2*i:]))) / 32768
	}
	return f
}

// TestGateWindowsSpanFrames: frames of odd sizes (one sample, less than a
// window, more than two) are cut into whole windows carrying samples
// across frames; the windows are exactly the stream, in order.
func TestGateWindowsSpanFrames(t *testing.T) {
	for _, r := range []struct {
		rateHz, window int
	}{{16000, 512}, {8000, 256}} {
		src := stagestest.Capture(r.rateHz, stagestest.Silence(300), stagestest.Speech(700), stagestest.Silence(500))
		dets := &stagestest.Detectors{Record: true}
		g := newGateRig(gate.Config{Mode: gate.Shadow}, r.rateHz, dets.New)
		frames := stagestest.Cut(src, r.rateHz, 317, 1, 1000, 511, 2048, 64)
		td.Cmp(t, g.run(t, frames), frames)
		made := dets.Made()
		td.Require(t).Len(made, 1)
		td.Cmp(t, made[0].RateHz, r.rateHz, "8 kHz runs on the 8 kHz branch")
		seen := made[0].Seen()
		n := len(src) / 2 / r.window
		td.Require(t).Len(seen, n)
		var all []float32
		for _, w := range seen {
			td.Cmp(t, len(w), r.window)
			all = append(all, w...)
		}
		td.Cmp(t, all, floats(src)[:n*r.window])
		td.Cmp(t, g.g.Stats().Speech, td.Between(int64(r.rateHz*7/10), int64(r.rateHz*7/10+2*2048)),
			"speech frames: 700 ms give or take the frames at its edges")
	}
}

// TestGateResamplesForTheDetectorOnly: audio at a rate the detector has no
// branch for is resampled to 16 kHz for the detector, while the audio
// sent upstream is the client's, byte for byte.
func TestGateResamplesForTheDetectorOnly(t *testing.T) {
	for _, rateHz := range []int{44100, 48000, 22050, 11025, 24000} {
		// 2 s: 1 s of silence, then a 1 kHz tone at half scale.
		src := make([]byte, 0, 4*rateHz)
		for i := range 2 * rateHz {
			var v float64
			if i >= rateHz {
				v = 16384 * math.Sin(2*math.Pi*1000*float64(i)/float64(rateHz))
			}
			src = binary.LittleEndian.AppendUint16(src, uint16(int16(math.Round(v))))
		}
		dets := &stagestest.Detectors{Record: true}
		g := newGateRig(gate.Config{Mode: gate.Active}, rateHz, dets.New)
		got := g.run(t, stagestest.Cut(src, rateHz, rateHz/10))
		var sent []byte
		for _, a := range got {
			sent = append(sent, a.PCM...)
		}
		pre, frame := int64(rateHz)*3/10, int64(rateHz/10)
		td.Cmp(t, got[0].Start, td.Between(int64(rateHz)-frame-pre, int64(rateHz)-pre),
			"onset in the frame holding 1 s, with 300 ms of pre-roll (rate %d)", rateHz)
		td.Cmp(t, sent, src[2*got[0].Start:], "audio upstream unchanged (rate %d)", rateHz)

		made := dets.Made()
		td.Require(t).Len(made, 1)
		td.Cmp(t, made[0].RateHz, 16000)
		seen := made[0].Seen()
		td.Cmp(t, len(seen), td.Between(2*16000/512-1, 2*16000/512), "2 s at 16 kHz in windows")
		// A window well inside the tone: 1 kHz at 16 kHz crosses zero
		// 64 times per 512 samples, at the input's level.
		w := seen[len(seen)-3]
		crossings, peak := 0, float32(0)
		for i := 1; i < len(w); i++ {
			if (w[i-1] < 0) != (w[i] < 0) {
				crossings++
			}
			peak = max(peak, w[i], -w[i])
		}
		td.Cmp(t, crossings, td.Between(62, 65), "rate %d", rateHz)
		td.Cmp(t, peak, td.Between(float32(0.47), float32(0.53)), "rate %d", rateHz)
	}
}

// TestGateFailsOpen: whatever goes wrong with the detector, the gate logs
// it once, counts it, sends the pre-roll it held and then everything: no
// captured sample is lost (each is sent or was held as silence before).
func TestGateFailsOpen(t *testing.T) {
	src := stagestest.Capture(rate, stagestest.Silence(1000), stagestest.Speech(500), stagestest.Silence(1000))
	nan := func(i int64, _ []float32) float32 {
		if i == 54 {
			return float32(math.NaN())
		}
		return 0
	}
	for _, tc := range []struct {
		name string
		det  *stagestest.Detectors
		mode gate.Mode
		want []run
		held int64
	}{
		{"error while silent", &stagestest.Detectors{FailAt: 55}, gate.Active,
			[]run{{at(200), at(2500), stages.MarkNone}}, at(200)},
		{"panic while silent", &stagestest.Detectors{FailAt: 55, Panic: true}, gate.Active,
			[]run{{at(200), at(2500), stages.MarkNone}}, at(200)},
		{"NaN probability", &stagestest.Detectors{Prob: nan}, gate.Active,
			[]run{{at(200), at(2500), stages.MarkNone}}, at(200)},
		{"factory fails", &stagestest.Detectors{NewErr: errors.New("no model")}, gate.Active,
			[]run{{0, at(2500), stages.MarkNone}}, 0},
		{"bad window size", &stagestest.Detectors{Window: -1}, gate.Active,
			[]run{{0, at(2500), stages.MarkNone}}, 0},
		{"error in the hangover", &stagestest.Detectors{FailAt: 195}, gate.Active, []run{
			{at(700), at(1500), stages.MarkSpeech},
			{at(1500), at(1900), stages.MarkSilence},
			{at(1900), at(2500), stages.MarkNone}, // no more marks
		}, at(700)},
		{"shadow", &stagestest.Detectors{FailAt: 55}, gate.Shadow,
			[]run{{0, at(2500), stages.MarkNone}}, at(200)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.det.Window == 0 {
				tc.det.Window = 160
			}
			r := newGateRig(gate.Config{Mode: tc.mode}, rate, tc.det.New)
			td.Cmp(t, runs(t, src, r.run(t, stagestest.Cut(src, rate, 1600))), tc.want)
			st := r.g.Stats()
			td.CmpTrue(t, st.FailedOpen)
			td.Cmp(t, st.Mode, tc.mode)
			td.Cmp(t, st.Held, tc.held)
			if tc.mode == gate.Active {
				td.Cmp(t, st.Captured, st.Sent+st.Held, "every sample sent or held")
			}
			td.Cmp(t, r.m.FailOpens.Get(), uint64(1))
			td.Cmp(t, strings.Count(r.log.String(), "vad gate failed"), 1, "logged once")
			td.Cmp(t, r.log.String(), td.Contains("level=ERROR"))
		})
	}
}

func TestGateCountsSessionsByMode(t *testing.T) {
	src := stagestest.Capture(rate, stagestest.Silence(100))
	r := newGateRig(gate.Config{Mode: gate.Active}, rate, detectors().New)
	r.run(t, stagestest.Cut(src, rate, 1600))
	var b strings.Builder
	r.set.WritePrometheus(&b)
	td.Cmp(t, b.String(), td.All(
		td.Contains(`earshot_gate_sessions_total{mode="active"} 1`),
		td.Contains(`earshot_gate_sessions_total{mode="off"} 0`),
		td.Contains(`earshot_gate_sessions_total{mode="shadow"} 0`),
		td.Contains(`earshot_gate_fail_open_total 0`),
		td.Contains(`earshot_gate_held_seconds_total{mode="active"} 0.1`),
	))
}
