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

func speech(at, n int) stages.Audio {
	a := frame(at, n)
	a.Mark = stages.MarkSpeech
	return a
}

// TestIdleCloseAndReopenAtSpeech: with the link's IdleCloseMs, a session
// is ready at once but dials only at its first speech; a stream the gate
// has held silent for IdleCloseMs, every word covered, is ended properly
// (no degraded state), and the next speech opens a new one whose times
// come out on the capture clock.
func TestIdleCloseAndReopenAtSpeech(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := stagestest.NewProvider()
		a.Named = "a"
		h := startConnectorWith(t, t.Context(), connector.Config{}, func(d *connector.Deps) {
			d.Provider = nil
			d.Chain = []connector.Link{{Provider: a, IdleCloseMs: 2000}}
		})
		td.Cmp(t, h.next(t).Kind, stages.EventConnecting)
		td.Cmp(t, h.next(t), td.Struct(stages.Update{Kind: stages.EventConnected, Provider: "a"}, nil), "ready before any dial")
		h.in <- hold(0)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		td.Cmp(t, a.Count.Load(), int64(0), "no dial while the gate holds")

		h.in <- speech(80000, 16000) // speech at 5 s
		s1 := stagestest.NewStream(16)
		(<-a.Dials).Accept(s1)
		td.Cmp(t, <-s1.Audio, stagestest.PCM(80000, 16000), "the speech, from the ring")
		s1.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 1, Words: []stages.Word{{Word: "one", StartSec: 0.2, EndSec: 0.6}}})
		td.Cmp(t, h.next(t).Result.Words[0].StartSec, td.N(5.2, 1e-9))

		h.in <- hold(96000)
		ctl := <-s1.Controls
		td.Cmp(t, ctl, stages.ControlCloseStream, "ended properly after 2 s of hold")
		s1.EndNormally()
		synctest.Wait()
		td.Cmp(t, stagestest.MetricValue(t, h.m.Set(), `earshot_upstream_idle_closes_total{provider="a"}`), 1.0)

		h.in <- speech(320000, 16000) // speech at 20 s
		s2 := stagestest.NewStream(16)
		(<-a.Dials).Accept(s2)
		td.Cmp(t, <-s2.Audio, stagestest.PCM(320000, 16000))
		s2.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 1, Words: []stages.Word{{Word: "two", StartSec: 0.1, EndSec: 0.4}}})
		u := h.next(t)
		td.Cmp(t, u.Kind, stages.EventResult, "no state event around an idle close")
		td.Cmp(t, u.Result.Words[0].StartSec, td.N(20.1, 1e-9), "on the capture clock")
		td.Cmp(t, h.m.LostSeconds.Get(), 0.0)
		close(h.in)
		<-s2.Controls
		s2.EndNormally()
		td.CmpNoError(t, <-h.err)
	})
}

// TestIdleCloseWaitsForFinals: while a word sent is not covered by a
// final, the hold does not close the stream.
func TestIdleCloseWaitsForFinals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := stagestest.NewProvider()
		h := startConnectorWith(t, t.Context(), connector.Config{FinalizeSilenceMs: -1, FinalizeIdleMs: -1}, func(d *connector.Deps) {
			d.Provider = nil
			d.Chain = []connector.Link{{Provider: a, IdleCloseMs: 1000}}
		})
		h.next(t)
		h.next(t)
		h.in <- speech(0, 16000)
		s1 := stagestest.NewStream(16)
		(<-a.Dials).Accept(s1)
		<-s1.Audio
		h.in <- hold(16000)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		select {
		case c := <-s1.Controls:
			td.Cmp(t, c, td.Not(stages.ControlCloseStream), "no close while a word is pending")
		default:
		}
		s1.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 1})
		h.next(t)
		for c := range s1.Controls {
			if c == stages.ControlCloseStream {
				break
			}
		}
		s1.EndNormally()
		close(h.in)
		td.CmpNoError(t, <-h.err)
	})
}
