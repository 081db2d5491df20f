package connector_test

import (
	"testing"
	"testing/synctest"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/stagestest"
)

// TestConnectorLostCountsEvictedSamplesNotGaps: audio with gaps in its
// capture indices (the gate held silence back) overflows the replay ring
// while dialing: only the samples evicted count as lost, not the span of
// capture time they cover.
func TestConnectorLostCountsEvictedSamplesNotGaps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{ReplayMaxMs: 1000})
		h.next(t)
		d := <-h.p.Dials
		h.in <- frame(0, 8000)         // 0-0.5 s
		h.in <- frame(10*rate, 8000)   // 10-10.5 s
		h.in <- frame(20*rate, 8000)   // 20-20.5 s: 1.5 s held, 1 s fits
		h.in <- frame(20*rate+8000, 0) // nothing: ignored
		synctest.Wait()
		td.Cmp(t, h.m.LostSeconds.Get(), td.N(0.5, 1e-9), "0.5 s evicted, not 10 s")
		s := stagestest.NewStream(16)
		d.Accept(s)
		h.next(t)
		td.Cmp(t, <-s.Audio, stagestest.PCM(10*rate, 8000))
		td.Cmp(t, <-s.Audio, stagestest.PCM(20*rate, 8000))
		s.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 1})
		td.Cmp(t, h.next(t).Result.StartSec, td.N(10.0, 1e-9))
		close(h.in)
		endOnCloseStream(s)
		td.CmpNoError(t, <-h.err)
		td.Cmp(t, h.m.LostSeconds.Get(), td.N(0.5, 1e-9), "the rest was covered")
	})
}

// TestConnectorLostWithGapsWhileStreaming: the ring overflows while a
// stream is open and a final covers part of what is evicted; when the
// stream drops, only the evicted samples no final covered are lost, and
// what the ring still holds is replayed.
func TestConnectorLostWithGapsWhileStreaming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{ReplayMaxMs: 1000, MinStreamMs: 1})
		h.next(t)
		s1 := stagestest.NewStream(16)
		(<-h.p.Dials).Accept(s1)
		h.next(t)
		h.in <- frame(0, 8000)
		h.in <- frame(10*rate, 8000)
		<-s1.Audio
		<-s1.Audio
		// A final covers the first quarter second.
		s1.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 0.25})
		td.Cmp(t, h.next(t).Kind, stages.EventResult)
		h.in <- frame(20*rate, 8000) // evicts 0-0.5 s, half of it covered
		<-s1.Audio
		td.Cmp(t, h.m.LostSeconds.Get(), 0.0, "a final may still cover it")

		s1.End(&stages.UpstreamError{CloseCode: 1011})
		td.Cmp(t, h.next(t).Kind, stages.EventDegraded)
		s2 := stagestest.NewStream(16)
		(<-h.p.Dials).Accept(s2)
		td.Cmp(t, h.next(t).Kind, stages.EventRecovered)
		td.Cmp(t, <-s2.Audio, stagestest.PCM(10*rate, 8000))
		td.Cmp(t, <-s2.Audio, stagestest.PCM(20*rate, 8000))
		td.Cmp(t, h.m.LostSeconds.Get(), td.N(0.25, 1e-9), "the evicted quarter second no final covered")
		td.Cmp(t, h.m.ReplayedSeconds.Get(), td.N(1.0, 1e-9))

		// Provider time on the new stream: 0-0.5 s is capture 10 s,
		// 0.5-1 s is capture 20 s.
		s2.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 1,
			Words: []stages.Word{{Word: "late", StartSec: 0.6, EndSec: 0.8}}})
		u := h.next(t)
		td.Cmp(t, u.Result.Words[0].StartSec, td.N(20.1, 1e-9))
		close(h.in)
		endOnCloseStream(s2)
		td.CmpNoError(t, <-h.err)
		td.Cmp(t, h.m.LostSeconds.Get(), td.N(0.25, 1e-9), "nothing more at the end")
	})
}

// TestConnectorLostAtTheEndIsWhatNoFinalCovered: audio with a gap still
// held when the session ends, on an upstream that does not finish the
// stream after CloseStream, counts by its samples.
func TestConnectorLostAtTheEndIsWhatNoFinalCovered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{})
		h.next(t)
		s := stagestest.NewStream(16)
		(<-h.p.Dials).Accept(s)
		h.next(t)
		h.in <- frame(0, 8000)
		h.in <- frame(30*rate, 8000)
		<-s.Audio
		<-s.Audio
		s.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 0.5})
		h.next(t)
		close(h.in)
		td.Cmp(t, <-s.Controls, stages.ControlCloseStream) // never answered: the close times out
		td.CmpNoError(t, <-h.err)
		td.Cmp(t, h.m.LostSeconds.Get(), td.N(0.5, 1e-9), "the last half second, not 30 s")
	})
}

// TestConnectorNothingLostWhenTheUpstreamFinishes: an upstream that ends
// the stream normally after CloseStream answered for everything it heard,
// even if its last final stops short of the last sample (a recognizer's
// 10 ms frames): nothing is lost.
func TestConnectorNothingLostWhenTheUpstreamFinishes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{})
		h.next(t)
		s := stagestest.NewStream(16)
		(<-h.p.Dials).Accept(s)
		h.next(t)
		h.in <- frame(0, 8021)
		<-s.Audio
		close(h.in)
		td.Cmp(t, <-s.Controls, stages.ControlCloseStream)
		s.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 0.5}) // 8000 of 8021 samples
		s.EndNormally()
		td.Cmp(t, h.next(t).Result.DurationSec, 0.5)
		td.CmpNoError(t, <-h.err)
		td.Cmp(t, h.m.LostSeconds.Get(), 0.0)
		td.Cmp(t, h.m.SentSeconds.Get(), td.N(8021.0/rate, 1e-9))
	})
}

// TestConnectorClientGoneDuringReconnectLosesWhatWasHeld: the client
// leaves while the connector is reconnecting; the audio held for the
// replay was never transcribed, so it is lost (it used to count 0).
func TestConnectorClientGoneDuringReconnectLosesWhatWasHeld(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{})
		h.next(t)
		s1 := stagestest.NewStream(16)
		(<-h.p.Dials).Accept(s1)
		h.next(t)
		h.in <- frame(0, 8000)
		<-s1.Audio
		s1.End(&stages.UpstreamError{CloseCode: 1011})
		td.Cmp(t, h.next(t).Kind, stages.EventDegraded)
		<-h.p.Dials // the redial, never answered
		h.in <- frame(8000, 8000)
		synctest.Wait()
		close(h.in)
		td.CmpNoError(t, <-h.err)
		td.Cmp(t, h.m.LostSeconds.Get(), td.N(1.0, 1e-9), "the half second sent and the half second held")
	})
}
