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

// TestConnectorSendsThePrefixFirstOnEveryStream: a stream starts with the
// prefix (a speech profile) at full speed and a Finalize; the words that
// start inside it are dropped; EventPrefixDone comes once a result
// reaches past it; live audio's words come out on the capture clock as
// if there were no prefix. A new stream after a drop gets the prefix
// again before the replay.
func TestConnectorSendsThePrefixFirstOnEveryStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		prefix := stagestest.PCM(50000, 2*rate) // 2 s
		h := startConnectorWith(t, t.Context(), connector.Config{MinStreamMs: 1}, func(d *connector.Deps) { d.Prefix = prefix })
		h.next(t) // connecting
		s1 := stagestest.NewStream(64)
		(<-h.p.Dials).Accept(s1)
		td.Cmp(t, h.next(t).Kind, stages.EventConnected)
		var sent []byte
		for len(sent) < len(prefix) {
			sent = append(sent, <-s1.Audio...)
		}
		td.Cmp(t, sent, prefix, "the prefix, whole, before anything else")
		td.Cmp(t, <-s1.Controls, stages.ControlFinalize, "then a Finalize")

		// The provider's answer for the prefix: its words are dropped.
		s1.Push(stages.Result{IsFinal: true, FromFinalize: true, StartSec: 0, DurationSec: 2, Words: []stages.Word{
			{Word: "profile", StartSec: 0.5, EndSec: 0.9, Speaker: 0}}})
		td.Cmp(t, h.next(t), stages.Update{Kind: stages.EventPrefixDone, Provider: "fake"})
		td.Cmp(t, h.m.PrefixWords.Get(), uint64(1))

		h.in <- frame(0, rate) // 1 s of live audio at capture 0
		td.Cmp(t, <-s1.Audio, stagestest.PCM(0, rate))
		s1.Push(stages.Result{IsFinal: true, StartSec: 2, DurationSec: 1, Words: []stages.Word{
			{Word: "live", StartSec: 2.25, EndSec: 2.5, Speaker: 0}}})
		u := h.next(t)
		td.Cmp(t, u.Result.Words, []stages.Word{{Word: "live", StartSec: 0.25, EndSec: 0.5}}, "capture time: the prefix is not on it")
		td.Cmp(t, u.Result.StartSec, 0.0)

		time.Sleep(time.Second)
		h.in <- frame(rate, rate/2) // unacknowledged when the stream drops
		<-s1.Audio
		s1.End(&stages.UpstreamError{CloseCode: 1011, Code: "NET-0001"})
		td.Cmp(t, h.next(t).Kind, stages.EventDegraded)
		s2 := stagestest.NewStream(64)
		(<-h.p.Dials).Accept(s2)
		td.Cmp(t, h.next(t).Kind, stages.EventRecovered)
		sent = sent[:0]
		for len(sent) < len(prefix) {
			sent = append(sent, <-s2.Audio...)
		}
		td.Cmp(t, sent, prefix, "the new stream hears the profile again first")
		td.Cmp(t, <-s2.Controls, stages.ControlFinalize)
		td.Cmp(t, <-s2.Audio, stagestest.PCM(rate, rate/2), "then the replay")
		s2.Push(stages.Result{IsFinal: true, StartSec: 2, DurationSec: 0.5, Words: []stages.Word{
			{Word: "again", StartSec: 2.125, EndSec: 2.375}}})
		td.Cmp(t, h.next(t), stages.Update{Kind: stages.EventPrefixDone, Provider: "fake"}, "a result past the prefix")
		u = h.next(t)
		td.Cmp(t, u.Result.Words, []stages.Word{{Word: "again", StartSec: 1.125, EndSec: 1.375}}, "after the replayed second")
		td.Cmp(t, u.Result.Stream, 2)
		close(h.in)
		endOnCloseStream(s2)
		td.CmpNoError(t, <-h.err)
	})
}
