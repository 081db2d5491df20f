package gate_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/gate"
	"earshot/stages/stagestest"
)

// TestGateActiveSendsSpeechWithPrerollAndHangover walks the whole machine
// with the defaults (pre-roll 300 ms, hangover 700 ms): two utterances
// separated by more silence than hangover and pre-roll cover, so a gap
// opens in the capture indices sent, where the gate says it holds audio
// back. (Where the connector's Finalize falls for these facts:
// TestGateAndConnectorFinalizeWhereSilenceCallsForIt in pipeline.)
func TestGateActiveSendsSpeechWithPrerollAndHangover(t *testing.T) {
	src := stagestest.Capture(rate, stagestest.Silence(2000), stagestest.Speech(1000), stagestest.Silence(2000), stagestest.Speech(500), stagestest.Silence(300))
	r := newGateRig(gate.Config{Mode: gate.Active}, rate, detectors().New)
	got := r.run(t, stagestest.Cut(src, rate, 1600))
	td.Cmp(t, runs(t, src, got), []run{
		{at(1700), at(3000), stages.MarkSpeech},  // pre-roll, speech
		{at(3000), at(3700), stages.MarkSilence}, // the hangover
		{at(3700), at(3700), stages.MarkHold},
		{at(4700), at(5500), stages.MarkSpeech}, // gap 3.7-4.7 s; pre-roll from 4.7 s
		{at(5500), at(5800), stages.MarkSilence},
	})
	td.Cmp(t, r.g.Stats(), gate.Stats{
		Mode: gate.Active, Captured: at(5800), Sent: at(3100), Speech: at(1500),
		Held: at(2700), Onsets: 2,
	})
	td.Cmp(t, r.m.SpeechSeconds.Get(), td.N(1.5, 1e-9))
	td.Cmp(t, r.m.HeldSeconds.Get(), td.N(2.7, 1e-9))
	td.Cmp(t, r.m.ShadowHeldSeconds.Get(), 0.0)
	td.Cmp(t, r.m.Onsets.Get(), uint64(2))
}

// TestGatePrerollIsTheLastPrerollMsBeforeOnset: with 700-sample frames
// and 10 ms windows nothing lines up with 300 ms, yet the pre-roll is
// exactly the 4800 samples before the frame the detector called speech.
func TestGatePrerollIsTheLastPrerollMsBeforeOnset(t *testing.T) {
	src := stagestest.Capture(rate, stagestest.Silence(2000), stagestest.Speech(1000), stagestest.Silence(2000))
	r := newGateRig(gate.Config{Mode: gate.Active}, rate, detectors().New)
	got := r.run(t, stagestest.Cut(src, rate, 700))
	// Speech starts at 32000; the window [32000, 32160) completes in the
	// frame [31500, 32200): the onset. The last speech window completes
	// in the frame [47600, 48300); silence is counted from 48300.
	td.Cmp(t, runs(t, src, got), []run{
		{31500 - 4800, 48300, stages.MarkSpeech},
		{48300, 48300 + 11200, stages.MarkSilence},
		{48300 + 11200, 48300 + 11200, stages.MarkHold},
	})
	td.Cmp(t, got[0], td.Struct(stages.Audio{Start: 26700}, nil), "the held frame was cut to the sample")
	st := r.g.Stats()
	td.Cmp(t, st.Captured, st.Sent+st.Held, "every sample sent or held")
}

// TestGateSpeechReturningDuringHangover: speech within the hangover goes
// on without a gap (and is no new onset); a pause a little longer than
// the hangover is bridged by the pre-roll, still without a gap.
func TestGateSpeechReturningDuringHangover(t *testing.T) {
	src := stagestest.Capture(rate, stagestest.Silence(500), stagestest.Speech(1000), stagestest.Silence(500), stagestest.Speech(1000),
		stagestest.Silence(900), stagestest.Speech(500), stagestest.Silence(2000))
	r := newGateRig(gate.Config{Mode: gate.Active}, rate, detectors().New)
	got := r.run(t, stagestest.Cut(src, rate, 1600))
	td.Cmp(t, runs(t, src, got), []run{
		{at(200), at(1500), stages.MarkSpeech},
		{at(1500), at(2000), stages.MarkSilence},
		{at(2000), at(3000), stages.MarkSpeech}, // speech is back within the hangover
		{at(3000), at(3700), stages.MarkSilence},
		{at(3700), at(3700), stages.MarkHold},
		{at(3700), at(4400), stages.MarkSpeech}, // 200 ms held, sent as pre-roll
		{at(4400), at(5100), stages.MarkSilence},
		{at(5100), at(5100), stages.MarkHold},
	})
	st := r.g.Stats()
	td.Cmp(t, st.Onsets, int64(2))
	td.Cmp(t, st.Held, at(200)+at(6400-5100))
	td.Cmp(t, st.Captured, st.Sent+st.Held)
}

func TestGateConfigShapesTheOutput(t *testing.T) {
	src := stagestest.Capture(rate, stagestest.Silence(1000), stagestest.Speech(500), stagestest.Silence(1500))
	for _, tc := range []struct {
		name string
		cfg  gate.Config
		want []run
	}{
		{"no pre-roll, short hangover", gate.Config{PrerollMs: -1, HangoverMs: 200}, []run{
			{at(1000), at(1500), stages.MarkSpeech},
			{at(1500), at(1700), stages.MarkSilence},
			{at(1700), at(1700), stages.MarkHold},
		}},
		{"no hangover", gate.Config{HangoverMs: -1}, []run{
			{at(700), at(1500), stages.MarkSpeech},
			{at(1500), at(1500), stages.MarkHold},
		}},
		{"hangover 400 ms", gate.Config{HangoverMs: 400}, []run{
			{at(700), at(1500), stages.MarkSpeech},
			{at(1500), at(1900), stages.MarkSilence},
			{at(1900), at(1900), stages.MarkHold},
		}},
		{"long pre-roll", gate.Config{PrerollMs: 5000, HangoverMs: 150}, []run{
			{0, at(1500), stages.MarkSpeech},
			{at(1500), at(1650), stages.MarkSilence}, // split mid-frame
			{at(1650), at(1650), stages.MarkHold},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Mode = gate.Active
			r := newGateRig(tc.cfg, rate, detectors().New)
			td.Cmp(t, runs(t, src, r.run(t, stagestest.Cut(src, rate, 1600))), tc.want)
			st := r.g.Stats()
			td.Cmp(t, st.Captured, st.Sent+st.Held)
		})
	}
}

func TestGateThresholdIsStrict(t *testing.T) {
	src := stagestest.Capture(rate, stagestest.Silence(1000))
	det := detectors()
	det.Prob = func(i int64, _ []float32) float32 {
		if i >= 50 {
			return 0.7
		}
		return 0.65 // not above the threshold
	}
	r := newGateRig(gate.Config{Mode: gate.Active}, rate, det.New)
	td.Cmp(t, runs(t, src, r.run(t, stagestest.Cut(src, rate, 1600))), []run{{at(200), at(1000), stages.MarkSpeech}})
}

// TestGateShadowSendsEverythingButCounts: same audio as the active test;
// everything goes through unmarked, and the counts say what an active
// gate would have held.
func TestGateShadowSendsEverythingButCounts(t *testing.T) {
	src := stagestest.Capture(rate, stagestest.Silence(2000), stagestest.Speech(1000), stagestest.Silence(2000), stagestest.Speech(500), stagestest.Silence(300))
	frames := stagestest.Cut(src, rate, 1600)
	r := newGateRig(gate.Config{Mode: gate.Shadow}, rate, detectors().New)
	got := r.run(t, frames)
	td.Cmp(t, got, frames, "every frame, unchanged")
	td.Cmp(t, r.g.Stats(), gate.Stats{
		Mode: gate.Shadow, Captured: at(5800), Sent: at(5800), Speech: at(1500),
		Held: at(2700), Onsets: 2,
	})
	td.Cmp(t, r.m.ShadowHeldSeconds.Get(), td.N(2.7, 1e-9))
	td.Cmp(t, r.m.HeldSeconds.Get(), 0.0)
	td.Cmp(t, r.m.SpeechSeconds.Get(), td.N(1.5, 1e-9))
}

func TestGateOffPassesThrough(t *testing.T) {
	src := stagestest.Capture(rate, stagestest.Silence(500), stagestest.Speech(500), stagestest.Silence(500))
	frames := stagestest.Cut(src, rate, 1000)
	for _, tc := range []struct {
		name string
		mode gate.Mode
		det  bool
	}{
		{"off", gate.Off, true},
		{"zero mode", "", true},
		{"active without a detector", gate.Active, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dets := detectors()
			var f stages.DetectorFactory
			if tc.det {
				f = dets.New
			}
			r := newGateRig(gate.Config{Mode: tc.mode}, rate, f)
			td.Cmp(t, r.g.Mode(), gate.Off)
			td.Cmp(t, r.run(t, frames), frames)
			td.Cmp(t, r.g.Stats(), gate.Stats{Mode: gate.Off, Captured: at(1500), Sent: at(1500)})
			td.CmpEmpty(t, dets.Made(), "no detector made")
		})
	}
}

func TestGateConfigValidate(t *testing.T) {
	td.CmpNoError(t, gate.Config{}.Validate())
	td.CmpNoError(t, gate.Config{Mode: gate.Shadow, Threshold: 0.5}.Validate())
	td.Cmp(t, gate.Config{Mode: "on"}.Validate(), td.ErrorIs(gate.ErrConfig))
	td.Cmp(t, gate.Config{Threshold: 1}.Validate(), td.ErrorIs(gate.ErrConfig))
	td.Cmp(t, gate.Config{Threshold: -0.1}.Validate(), td.ErrorIs(gate.ErrConfig))
	m, err := gate.ParseMode("shadow")
	td.CmpNoError(t, err)
	td.Cmp(t, m, gate.Shadow)
	_, err = gate.ParseMode("")
	td.Cmp(t, err, td.ErrorIs(gate.ErrConfig))
}
