package pipeline_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/gate"
	"earshot/stages/stagestest"
)

// TestGateConnectorKeepAliveHasOneOwner: while the gate holds 20 s of
// silence back, the only traffic upstream is the connector's KeepAlive,
// every 5 s: the gate never sends one itself.
func TestGateConnectorKeepAliveHasOneOwner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := stagestest.NewStream(64)
		gd := startGated(t, t.Context(), connector.Config{}, s)
		ctls := recordControls(s, time.Now())
		feed(gd.in, stagestest.Cut(stagestest.Capture(rate, stagestest.Silence(20500)), rate, 1600))
		close(gd.in)
		td.Cmp(t, <-ctls, []control{
			{stages.ControlKeepAlive, 5 * time.Second},
			{stages.ControlKeepAlive, 10 * time.Second},
			{stages.ControlKeepAlive, 15 * time.Second},
			{stages.ControlKeepAlive, 20 * time.Second},
			{stages.ControlCloseStream, 20500 * time.Millisecond},
		})
		td.CmpNoError(t, <-gd.err)
		td.Cmp(t, len(s.Audio), 0, "no audio sent")
		td.Cmp(t, gd.m.KeepAlives.Get(), uint64(4))
		td.Cmp(t, gd.g.Stats(), td.SStruct(gate.Stats{Mode: gate.Active, Captured: at(20500), Held: at(20500)}))
	})
}

// TestGateConnectorFinalizesOncePerPause: the gate's Finalize comes
// 300 ms after the speech; the connector's pause watch does not ask again
// for the same pause, whether the upstream answered the first or not.
// The KeepAlive then comes 5 s after the last audio sent (the hangover's
// end).
func TestGateConnectorFinalizesOncePerPause(t *testing.T) {
	for _, answered := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			s := stagestest.NewStream(256)
			gd := startGated(t, t.Context(), connector.Config{}, s)
			ctls := recordControls(s, time.Now())
			if answered {
				go func() {
					// The Finalize went at 1.3 s, after the 0.9 s sent
					// since 0.4 s (pre-roll).
					time.Sleep(1400 * time.Millisecond)
					s.Push(stages.Result{IsFinal: true, FromFinalize: true, StartSec: 0, DurationSec: 0.9})
				}()
			}
			feed(gd.in, stagestest.Cut(stagestest.Capture(rate, stagestest.Silence(700), stagestest.Speech(300), stagestest.Silence(8000)), rate, 1600))
			close(gd.in)
			td.Cmp(t, <-ctls, []control{
				{stages.ControlFinalize, 1300 * time.Millisecond},
				{stages.ControlKeepAlive, 6700 * time.Millisecond},
				{stages.ControlCloseStream, 9000 * time.Millisecond},
			}, "answered: %v", answered)
			td.CmpNoError(t, <-gd.err)
			td.Cmp(t, gd.m.GateFinalizes.Get(), uint64(1))
			td.Cmp(t, gd.m.IdleFinalizes.Get(), uint64(0))
		})
	}
}

// TestGateConnectorPauseFinalizeAfterSpeechResumed: after the gate's
// Finalize, speech comes back within the hangover, then the client stops
// sending: those words are new, so the pause watch asks for them.
func TestGateConnectorPauseFinalizeAfterSpeechResumed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := stagestest.NewStream(256)
		gd := startGated(t, t.Context(), connector.Config{}, s)
		ctls := recordControls(s, time.Now())
		feed(gd.in, stagestest.Cut(stagestest.Capture(rate, stagestest.Silence(700), stagestest.Speech(300), stagestest.Silence(500), stagestest.Speech(300)), rate, 1600))
		time.Sleep(3 * time.Second) // the client sends nothing
		close(gd.in)
		td.Cmp(t, <-ctls, []control{
			{stages.ControlFinalize, 1300 * time.Millisecond}, // the gate's
			{stages.ControlFinalize, 2800 * time.Millisecond}, // the pause's, 1 s after the last audio
			{stages.ControlCloseStream, 4800 * time.Millisecond},
		})
		td.CmpNoError(t, <-gd.err)
		td.Cmp(t, gd.m.GateFinalizes.Get(), uint64(1))
		td.Cmp(t, gd.m.IdleFinalizes.Get(), uint64(1))
	})
}

// TestGateAndConnectorFinalizeWhereSilenceCallsForIt: the gate states
// facts (speech, silence, holding back), and the connector's Finalize
// lands where the gate's own request used to, counted in samples sent
// upstream before it: FinalizeSilenceMs (300 ms) into the silence after
// speech, split to the sample; at the end of a shorter hangover; at once
// with no hangover; never when FinalizeSilenceMs is negative. The scripts
// are the gate's own tests'.
func TestGateAndConnectorFinalizeWhereSilenceCallsForIt(t *testing.T) {
	S, P := stagestest.Silence, stagestest.Speech
	for _, tc := range []struct {
		name     string
		script   []stagestest.Stretch
		frame    int
		gcfg     gate.Config
		finMs    int
		sentUpTo []int64
	}{
		{"two utterances", []stagestest.Stretch{S(2000), P(1000), S(2000), P(500), S(300)}, 1600,
			gate.Config{}, 0, []int64{at(1600), at(3100)}},
		{"frames that line up with nothing", []stagestest.Stretch{S(2000), P(1000), S(2000)}, 700,
			gate.Config{}, 0, []int64{26400}},
		{"speech returning in the hangover", []stagestest.Stretch{S(500), P(1000), S(500), P(1000), S(900), P(500), S(2000)}, 1600,
			gate.Config{}, 0, []int64{at(1600), at(3100), at(4500)}},
		{"no pre-roll, short hangover", []stagestest.Stretch{S(1000), P(500), S(1500)}, 1600,
			gate.Config{PrerollMs: -1, HangoverMs: 200}, 0, []int64{at(700)}},
		{"no hangover", []stagestest.Stretch{S(1000), P(500), S(1500)}, 1600,
			gate.Config{HangoverMs: -1}, 0, []int64{at(800)}},
		{"no Finalize", []stagestest.Stretch{S(1000), P(500), S(1500)}, 1600,
			gate.Config{HangoverMs: 400}, -1, nil},
		{"long pre-roll, Finalize mid-frame", []stagestest.Stretch{S(1000), P(500), S(1500)}, 1600,
			gate.Config{PrerollMs: 5000, HangoverMs: 150}, 100, []int64{at(1600)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := stagestest.NewStream(1024)
				tc.gcfg.Mode = gate.Active
				gd := startGatedWith(t, t.Context(), tc.gcfg, connector.Config{
					KeepAliveIdleMs: 600_000, FinalizeIdleMs: -1, StallTimeoutMs: -1, FinalizeSilenceMs: tc.finMs,
				}, s)
				for _, f := range stagestest.Cut(stagestest.Capture(rate, tc.script...), rate, tc.frame) {
					gd.in <- f
				}
				close(gd.in)
				td.CmpNoError(t, <-gd.err)
				var got []int64
				sent := int64(0)
				for _, e := range s.Sent() {
					if e.Control == stages.ControlFinalize {
						got = append(got, sent)
					}
					sent += int64(e.Samples)
				}
				td.Cmp(t, got, tc.sentUpTo)
				td.Cmp(t, gd.m.GateFinalizes.Get(), uint64(len(tc.sentUpTo)))
			})
		})
	}
}
