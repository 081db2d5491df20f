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

// TestConnectorGateFinalizeIsNotAudio: a MarkFinalize becomes a Finalize
// on the open stream, never audio; after the stream drops, the replay
// holds only audio, and a MarkFinalize arriving while no stream is open
// is dropped.
func TestConnectorGateFinalizeIsNotAudio(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{KeepAliveIdleMs: 60_000})
		h.next(t)
		s1 := stagestest.NewStream(16)
		(<-h.p.Dials).Accept(s1)
		h.next(t)
		finalize := stages.Audio{Start: 1600, SampleRateHz: rate, Mark: stages.MarkFinalize}
		h.in <- frame(0, 1600)
		h.in <- finalize
		h.in <- stages.Audio{PCM: stagestest.PCM(1600, 1600), Start: 1600, SampleRateHz: rate, Mark: stages.MarkQuiet}
		td.Cmp(t, <-s1.Audio, stagestest.PCM(0, 1600))
		td.Cmp(t, <-s1.Controls, stages.ControlFinalize)
		td.Cmp(t, <-s1.Audio, stagestest.PCM(1600, 1600))
		h.in <- finalize // finals do not cover the audio, but it was asked for
		synctest.Wait()
		td.Cmp(t, len(s1.Controls), 0, "asked once")

		s1.End(&stages.UpstreamError{CloseCode: 1011})
		td.Cmp(t, h.next(t).Kind, stages.EventDegraded)
		d := <-h.p.Dials
		h.in <- finalize // no stream open: dropped
		synctest.Wait()
		s2 := stagestest.NewStream(16)
		d.Accept(s2)
		td.Cmp(t, h.next(t).Kind, stages.EventRecovered)
		replayedAt := time.Now()
		td.Cmp(t, <-s2.Audio, stagestest.PCM(0, 1600))
		td.Cmp(t, <-s2.Audio, stagestest.PCM(1600, 1600))
		td.Cmp(t, <-s2.Controls, stages.ControlFinalize, "the pause watch finalizes the replay")
		td.Cmp(t, time.Since(replayedAt), time.Second)
		synctest.Wait()
		td.Cmp(t, len(s2.Audio), 0, "no other audio, none empty")
		td.Cmp(t, h.m.GateFinalizes.Get(), uint64(1))
		td.Cmp(t, h.m.IdleFinalizes.Get(), uint64(1))
		td.Cmp(t, h.m.ReplayedSeconds.Get(), td.N(0.2, 1e-9))
		close(h.in)
		endOnCloseStream(s2)
		td.CmpNoError(t, <-h.err)
	})
}
