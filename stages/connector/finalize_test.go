package connector_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/stagestest"
)

// marked is audio of n samples from start, with the gate's mark.
func marked(start, n int, m stages.Mark) stages.Audio {
	return stages.Audio{PCM: stagestest.PCM(start, n), Start: int64(start), SampleRateHz: rate, Mark: m}
}

// hold is the gate's MarkHold at start.
func hold(start int) stages.Audio {
	return stages.Audio{Start: int64(start), SampleRateHz: rate, Mark: stages.MarkHold}
}

// TestConnectorGateSilenceFinalizeIsNotAudio: FinalizeSilenceMs into the
// gate's silence the connector sends a Finalize on the open stream, at
// that point of the audio (the frame is split there), never audio; the
// rest of the silence and the gate's MarkHold ask nothing more. After the
// stream drops, the replay holds only audio, and a Finalize falling due
// while no stream is open is dropped (the pause watch finalizes the
// replay).
func TestConnectorGateSilenceFinalizeIsNotAudio(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{KeepAliveIdleMs: 60_000, FinalizeSilenceMs: 50})
		h.next(t)
		s1 := stagestest.NewStream(16)
		(<-h.p.Dials).Accept(s1)
		h.next(t)
		h.in <- marked(0, 1600, stages.MarkSpeech)
		h.in <- marked(1600, 1600, stages.MarkSilence) // 50 ms = 800 samples in
		td.Cmp(t, <-s1.Audio, stagestest.PCM(0, 1600))
		td.Cmp(t, <-s1.Audio, stagestest.PCM(1600, 800))
		td.Cmp(t, <-s1.Controls, stages.ControlFinalize)
		td.Cmp(t, <-s1.Audio, stagestest.PCM(2400, 800))
		h.in <- hold(3200) // finals do not cover the audio, but it was asked for
		synctest.Wait()
		td.Cmp(t, len(s1.Controls), 0, "asked once")

		s1.End(&stages.UpstreamError{CloseCode: 1011})
		td.Cmp(t, h.next(t).Kind, stages.EventDegraded)
		d := <-h.p.Dials
		h.in <- marked(3200, 1600, stages.MarkSpeech)
		h.in <- hold(4800) // due, but no stream open: dropped
		synctest.Wait()
		s2 := stagestest.NewStream(16)
		d.Accept(s2)
		td.Cmp(t, h.next(t).Kind, stages.EventRecovered)
		replayedAt := time.Now()
		td.Cmp(t, <-s2.Audio, stagestest.PCM(0, 1600))
		td.Cmp(t, <-s2.Audio, stagestest.PCM(1600, 800))
		td.Cmp(t, <-s2.Audio, stagestest.PCM(2400, 800))
		td.Cmp(t, <-s2.Audio, stagestest.PCM(3200, 1600))
		td.Cmp(t, <-s2.Controls, stages.ControlFinalize, "the pause watch finalizes the replay")
		td.Cmp(t, time.Since(replayedAt), time.Second)
		synctest.Wait()
		td.Cmp(t, len(s2.Audio), 0, "no other audio, none empty")
		td.Cmp(t, h.m.GateFinalizes.Get(), uint64(1))
		td.Cmp(t, h.m.IdleFinalizes.Get(), uint64(1))
		td.Cmp(t, h.m.ReplayedSeconds.Get(), td.N(0.2, 1e-9), "sent before the drop; the rest is new")
		close(h.in)
		endOnCloseStream(s2)
		td.CmpNoError(t, <-h.err)
	})
}

// gateScript is the gate's output for one utterance: speech, then
// silence in frames of frame samples up to end, then MarkHold at end.
func gateScript(speechEnd, end, frame int) []stages.Audio {
	out := []stages.Audio{marked(0, speechEnd, stages.MarkSpeech)}
	for at := speechEnd; at < end; at += frame {
		out = append(out, marked(at, min(frame, end-at), stages.MarkSilence))
	}
	return append(out, hold(end))
}

// TestConnectorFinalizeSilencePoint: where the Finalize falls, in samples
// sent upstream before it, for the gate's silence and FinalizeSilenceMs:
// FinalizeSilenceMs into the silence, split to the sample; at the gate's
// MarkHold when the hangover is shorter; at once when it is 0 ms of
// silence; never when negative.
func TestConnectorFinalizeSilencePoint(t *testing.T) {
	for _, tc := range []struct {
		name     string
		finMs    int
		script   []stages.Audio
		sentUpTo []int // samples sent before each Finalize
	}{
		{"default 300 ms, frames on the point", 0, gateScript(16000, 16000+11200, 1600), []int{16000 + 4800}},
		{"300 ms, 700-sample frames", 300, gateScript(16000, 16000+11200, 700), []int{16000 + 4800}},
		{"100 ms", 100, gateScript(16000, 16000+800, 1600), []int{16000 + 800}}, // at the hold: 50 ms hangover
		{"hangover shorter", 400, gateScript(16000, 16000+3200, 1600), []int{16000 + 3200}},
		{"no hangover", 300, []stages.Audio{marked(0, 16000, stages.MarkSpeech), hold(16000)}, []int{16000}},
		{"never", -1, gateScript(16000, 16000+6400, 1600), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := startConnector(t, t.Context(), connector.Config{
					KeepAliveIdleMs: 60_000, FinalizeIdleMs: -1, FinalizeSilenceMs: tc.finMs,
				})
				h.next(t)
				s := stagestest.NewStream(256)
				(<-h.p.Dials).Accept(s)
				h.next(t)
				for _, a := range tc.script {
					h.in <- a
				}
				synctest.Wait()
				var at []int
				sent := 0
				for _, e := range s.Sent() {
					if e.Control == stages.ControlFinalize {
						at = append(at, sent)
					}
					sent += e.Samples
				}
				td.Cmp(t, at, tc.sentUpTo)
				close(h.in)
				endOnCloseStream(s)
				td.CmpNoError(t, <-h.err)
			})
		})
	}
}
