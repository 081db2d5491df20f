package connector_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/retry"
	"earshot/stages/stagestest"
)

// chainHarness is a connector over a chain of two fake providers, "a"
// then "b", with their breakers.
type chainHarness struct {
	*harness
	a, b   *stagestest.Provider
	ba, bb *retry.Breaker
}

func startChain(t *testing.T, cfg connector.Config) *chainHarness {
	t.Helper()
	return startChainAfter(t, cfg, nil)
}

// startChainAfter is startChain that calls prepare, when not nil, on the
// harness before the connector starts.
func startChainAfter(t *testing.T, cfg connector.Config, prepare func(*chainHarness)) *chainHarness {
	t.Helper()
	ch := &chainHarness{
		a: stagestest.NewProvider(), b: stagestest.NewProvider(),
		ba: retry.NewBreaker("a", retry.BreakerConfig{FailureThreshold: 100}, nil),
		bb: retry.NewBreaker("b", retry.BreakerConfig{FailureThreshold: 100}, nil),
	}
	if prepare != nil {
		prepare(ch)
	}
	ch.a.Named, ch.b.Named = "a", "b"
	ch.harness = startConnectorWith(t, t.Context(), cfg, func(d *connector.Deps) {
		d.Provider = nil
		d.Chain = []connector.Link{{Provider: ch.a, Breaker: ch.ba}, {Provider: ch.b, Breaker: ch.bb}}
	})
	return ch
}

// TestChainFailsOverWithTheReplay: the first provider's stream drops and
// its reconnects keep failing for FailoverAfterMs; the session moves to
// the second, which gets every unacknowledged sample again, its times
// mapped onto the capture clock, and is announced (ready with
// fallback_from_a) only with its first result, whose words name it.
func TestChainFailsOverWithTheReplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startChain(t, connector.Config{FailoverAfterMs: 5000, MinStreamMs: -1,
			Backoff: retry.BackoffConfig{BaseMs: 1000, CapMs: 1000}})
		td.Cmp(t, h.next(t), td.Struct(stages.Update{Kind: stages.EventConnecting, Provider: "a"}, nil))
		s1 := stagestest.NewStream(16)
		(<-h.a.Dials).Accept(s1)
		td.Cmp(t, h.next(t), td.Struct(stages.Update{Kind: stages.EventConnected, Provider: "a", Reason: ""}, nil))
		h.in <- frame(0, 16000)
		<-s1.Audio
		s1.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 0.5, Words: []stages.Word{{Word: "one", StartSec: 0.1, EndSec: 0.4}}})
		td.Cmp(t, h.next(t).Result.Provider, "a")
		s1.End(&stages.UpstreamError{CloseCode: 1011, Code: "NET-0001"})
		td.Cmp(t, h.next(t), td.Struct(stages.Update{Kind: stages.EventDegraded, Provider: "a"}, nil))
		failed := time.Now()
		refused := 0
		var d *stagestest.Dial
		for d == nil {
			select {
			case da := <-h.a.Dials:
				da.Refuse(errDown)
				refused++
			case d = <-h.b.Dials:
			}
		}
		td.Cmp(t, time.Since(failed), td.Between(5*time.Second, 6*time.Second), "a was tried for FailoverAfterMs")
		td.Cmp(t, refused, td.Gte(3))
		s2 := stagestest.NewStream(16)
		d.Accept(s2)
		td.Cmp(t, <-s2.Audio, stagestest.PCM(8000, 8000), "the unacknowledged half second is replayed into b")
		select {
		case u := <-h.out:
			t.Fatalf("announced before b answered: %+v", u)
		default:
		}
		s2.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 0.5, Words: []stages.Word{{Word: "two", StartSec: 0.1, EndSec: 0.3}}})
		td.Cmp(t, h.next(t), td.Struct(stages.Update{Kind: stages.EventRecovered, Provider: "b", Reason: "fallback_from_a"}, nil))
		u := h.next(t)
		td.Cmp(t, u.Result.Provider, "b")
		td.Cmp(t, u.Result.Words, []stages.Word{{Word: "two", StartSec: 0.6, EndSec: 0.8}}, "on the capture clock")
		td.Cmp(t, u.Result.Stream, 2)
		td.Cmp(t, stagestest.MetricValue(t, h.m.Set(), `earshot_upstream_failovers_total{from="a",to="b"}`), 1.0)
		close(h.in)
		<-s2.Controls
		s2.EndNormally()
		td.CmpNoError(t, <-h.err)
	})
}

// TestChainStartsPastAPermanentRefusal: the first provider refuses for
// good (401): the session starts on the second at once, and ready says
// it fell back.
func TestChainStartsPastAPermanentRefusal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startChain(t, connector.Config{})
		h.next(t)
		(<-h.a.Dials).Refuse(&stages.UpstreamError{HTTPStatus: 401, Code: "INVALID_AUTH"})
		s := stagestest.NewStream(16)
		(<-h.b.Dials).Accept(s)
		td.Cmp(t, h.next(t), td.Struct(stages.Update{Kind: stages.EventConnected, Provider: "b", Reason: "fallback_from_a"}, nil))
		close(h.in)
		<-s.Controls
		s.EndNormally()
		td.CmpNoError(t, <-h.err)
		td.Cmp(t, h.a.Count.Load(), int64(1), "a permanent refusal is not retried")
	})
}

// TestChainSkipsAnOpenBreaker: the first provider's breaker is open: the
// session never dials it.
func TestChainSkipsAnOpenBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startChainAfter(t, connector.Config{}, func(h *chainHarness) {
			for range 100 {
				ok, _ := h.ba.Allow()
				td.Require(t).True(ok)
				h.ba.Failure()
			}
			td.Cmp(t, h.ba.State(), retry.BreakerOpen)
		})
		h.next(t)
		s := stagestest.NewStream(16)
		(<-h.b.Dials).Accept(s)
		td.Cmp(t, h.next(t).Reason, "fallback_from_a")
		td.Cmp(t, h.a.Count.Load(), int64(0))
		close(h.in)
		<-s.Controls
		s.EndNormally()
		td.CmpNoError(t, <-h.err)
	})
}

// TestChainMovesOnAfterQuickDeaths: a provider that accepts and dies
// 300 ms later (Omi #12469) is left after three such deaths, with no
// tight loop: each redial waited its backoff.
func TestChainMovesOnAfterQuickDeaths(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startChain(t, connector.Config{MinStreamMs: 2000, FailoverAfterMs: -1,
			Backoff: retry.BackoffConfig{BaseMs: 1000, CapMs: 8000}})
		h.next(t)
		var dialed []time.Time
		for range 3 {
			s := stagestest.NewStream(16)
			(<-h.a.Dials).Accept(s)
			dialed = append(dialed, time.Now())
			h.next(t) // connected, then recovered
			time.Sleep(300 * time.Millisecond)
			s.End(&stages.UpstreamError{CloseCode: 1011, Code: "DIED"})
			td.Cmp(t, h.next(t).Kind, stages.EventDegraded)
		}
		td.Cmp(t, dialed[2].Sub(dialed[1]), td.Gte(300*time.Millisecond+250*time.Millisecond), "backoff between quick deaths")
		s := stagestest.NewStream(16)
		(<-h.b.Dials).Accept(s)
		td.Cmp(t, h.a.Count.Load(), int64(3))
		h.in <- frame(0, 1600)
		<-s.Audio
		s.Push(stages.Result{IsFinal: true, DurationSec: 0.1})
		td.Cmp(t, h.next(t), td.Struct(stages.Update{Kind: stages.EventRecovered, Provider: "b", Reason: "fallback_from_a"}, nil))
		close(h.in)
		<-s.Controls
		s.EndNormally()
		td.CmpNoError(t, <-h.err)
	})
}

// TestChainMaxFailovers: with MaxFailovers negative a chain never moves:
// the first provider's permanent refusal fails the session as before.
func TestChainMaxFailovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startChain(t, connector.Config{MaxFailovers: -1})
		h.next(t)
		(<-h.a.Dials).Refuse(&stages.UpstreamError{HTTPStatus: 402, Code: "NO_CREDIT"})
		td.Cmp(t, h.next(t), td.Struct(stages.Update{Kind: stages.EventFailed, Provider: "a", Failure: stages.FailurePermanent}, nil))
		close(h.in)
		td.CmpNoError(t, <-h.err)
		td.Cmp(t, h.b.Count.Load(), int64(0))
	})
}

// TestChainPassesALinkByLanguage: a provider that does not serve the
// session's language is never dialed.
func TestChainPassesALinkByLanguage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := stagestest.NewProvider(), stagestest.NewProvider()
		a.Named, b.Named = "a", "b"
		h := startConnectorWith(t, t.Context(), connector.Config{}, func(d *connector.Deps) {
			d.Provider = nil
			d.Chain = []connector.Link{{Provider: a, Languages: []string{"de"}}, {Provider: b}}
		})
		h.next(t)
		s := stagestest.NewStream(16)
		(<-b.Dials).Accept(s)
		td.Cmp(t, h.next(t).Reason, "fallback_from_a")
		td.Cmp(t, a.Count.Load(), int64(0))
		close(h.in)
		<-s.Controls
		s.EndNormally()
		td.CmpNoError(t, <-h.err)
	})
}

// TestChainEstimatedCost: a provider billed by audio costs the seconds
// sent at its price; one billed by stream time, the time its stream was
// open, silence included.
func TestChainEstimatedCost(t *testing.T) {
	for _, byStream := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			a := stagestest.NewProvider()
			a.Named = "a"
			h := startConnectorWith(t, t.Context(), connector.Config{}, func(d *connector.Deps) {
				d.Provider = nil
				d.Chain = []connector.Link{{Provider: a, Price: connector.Price{USDPerHour: 3600, BillsStreamTime: byStream}}}
			})
			h.next(t)
			s := stagestest.NewStream(16)
			(<-a.Dials).Accept(s)
			h.next(t)
			h.in <- frame(0, 16000) // 1 s of audio
			<-s.Audio
			time.Sleep(9 * time.Second) // the stream stays open 10 s in all
			close(h.in)
			<-s.Controls
			time.Sleep(time.Second)
			s.EndNormally()
			td.CmpNoError(t, <-h.err)
			want := 1.0 // $3600 an hour: a dollar a second of audio
			if byStream {
				want = 10 // ... or of open stream
			}
			td.Cmp(t, stagestest.MetricValue(t, h.m.Set(), `earshot_upstream_cost_usd_total{provider="a"}`), td.N(want, 1e-6), "billed by stream time: %v", byStream)
			td.Cmp(t, stagestest.MetricValue(t, h.m.Set(), `earshot_upstream_sent_seconds_total{provider="a"}`), td.N(1.0, 1e-9))
			td.Cmp(t, stagestest.MetricValue(t, h.m.Set(), `earshot_upstream_stream_seconds_total{provider="a"}`), td.N(10.0, 1e-6))
		})
	}
}

// failOverToB runs a chain session onto its second provider: a's stream
// drops and a refuses the reconnects for FailoverAfterMs; b takes over
// and answers its first result. It returns b's stream, with 1 s of audio
// (capture 0–1 s) sent and covered by a final result.
func failOverToB(t *testing.T, h *chainHarness) *stagestest.Stream {
	t.Helper()
	h.next(t)
	s1 := stagestest.NewStream(16)
	(<-h.a.Dials).Accept(s1)
	h.next(t)
	s1.End(&stages.UpstreamError{CloseCode: 1011, Reason: "gone"})
	td.Cmp(t, h.next(t).Kind, stages.EventDegraded)
	var d *stagestest.Dial
	for d == nil {
		select {
		case da := <-h.a.Dials:
			da.Refuse(errDown)
		case d = <-h.b.Dials:
		}
	}
	s2 := stagestest.NewStream(16)
	d.Accept(s2)
	h.in <- frame(0, 16000)
	<-s2.Audio
	s2.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 1, Words: []stages.Word{{Word: "b", StartSec: 0.2, EndSec: 0.5}}})
	td.Cmp(t, h.next(t).Reason, "fallback_from_a")
	h.next(t) // the result
	return s2
}

// TestChainFailsBackAtABoundary: on the fallback, with the first
// provider healthy (its breaker closed) and every word sent covered by a
// final, the periodic check dials it and the session moves back; the
// fallback's stream is closed.
func TestChainFailsBackAtABoundary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startChain(t, connector.Config{FailbackCheckMs: 5000, FailoverAfterMs: 2000, MinStreamMs: -1})
		s2 := failOverToB(t, h)
		before := h.a.Count.Load()
		began := time.Now()
		d := <-h.a.Dials
		td.Cmp(t, time.Since(began), td.Lte(5*time.Second), "at the first check")
		s3 := stagestest.NewStream(16)
		d.Accept(s3)
		td.Cmp(t, h.next(t), td.Struct(stages.Update{Kind: stages.EventRecovered, Provider: "a", Reason: stages.ReasonFailback}, nil))
		<-s2.Closed()
		h.in <- frame(16000, 1600)
		td.Cmp(t, <-s3.Audio, stagestest.PCM(16000, 1600), "live audio on a again, nothing to replay")
		td.Cmp(t, stagestest.MetricValue(t, h.m.Set(), `earshot_upstream_failbacks_total{from="b",to="a"}`), 1.0)
		td.Cmp(t, h.a.Count.Load(), before+1, "one dial of a to fail back")
		close(h.in)
		<-s3.Controls
		s3.EndNormally()
		td.CmpNoError(t, <-h.err)
	})
}

// TestChainNeverFailsBackMidWord: while audio sent holds words no final
// covers yet (no endpoint either), the check does not dial; once a
// final covers them, it does.
func TestChainNeverFailsBackMidWord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startChain(t, connector.Config{FailbackCheckMs: 5000, FailoverAfterMs: 2000, MinStreamMs: -1})
		s2 := failOverToB(t, h)
		before := h.a.Count.Load()
		h.in <- frame(16000, 16000) // speech, not final yet
		<-s2.Audio
		time.Sleep(12 * time.Second) // two checks
		synctest.Wait()
		td.Cmp(t, h.a.Count.Load(), before, "no dial mid-utterance")
		s2.Push(stages.Result{IsFinal: true, StartSec: 1, DurationSec: 1})
		h.next(t)
		d := <-h.a.Dials
		s3 := stagestest.NewStream(16)
		d.Accept(s3)
		td.Cmp(t, h.next(t).Reason, stages.ReasonFailback)
		close(h.in)
		<-s3.Controls
		s3.EndNormally()
		td.CmpNoError(t, <-h.err)
	})
}

// TestChainFailbackProbeFails: the first provider refuses the fail-back's
// dial: the session stays on the fallback, untouched.
func TestChainFailbackProbeFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startChain(t, connector.Config{FailbackCheckMs: 5000, FailoverAfterMs: 2000, MinStreamMs: -1})
		s2 := failOverToB(t, h)
		(<-h.a.Dials).Refuse(errDown)
		synctest.Wait()
		h.in <- frame(16000, 1600)
		td.Cmp(t, <-s2.Audio, stagestest.PCM(16000, 1600), "still on b")
		close(h.in)
		<-s2.Controls
		s2.EndNormally()
		td.CmpNoError(t, <-h.err)
	})
}

// TestChainNeverFailsBackToARefusal: a provider that refused the session
// for good (1008) is not failed back to.
func TestChainNeverFailsBackToARefusal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startChain(t, connector.Config{FailbackCheckMs: 5000})
		h.next(t)
		s1 := stagestest.NewStream(16)
		(<-h.a.Dials).Accept(s1)
		h.next(t)
		s1.End(&stages.UpstreamError{CloseCode: 1008, Reason: "policy"})
		h.next(t)
		s2 := stagestest.NewStream(16)
		(<-h.b.Dials).Accept(s2)
		time.Sleep(20 * time.Second)
		synctest.Wait()
		td.Cmp(t, h.a.Count.Load(), int64(1))
		close(h.in)
		<-s2.Controls
		s2.EndNormally()
		td.CmpNoError(t, <-h.err)
	})
}

// TestConnectorWithoutReplay: with ReplayMaxMs negative, a reconnect
// re-sends nothing: the audio no final covered and what came during the
// outage are counted lost, and the new stream starts with live audio.
func TestConnectorWithoutReplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{ReplayMaxMs: -1, MinStreamMs: -1})
		h.next(t)
		s1 := stagestest.NewStream(16)
		(<-h.p.Dials).Accept(s1)
		h.next(t)
		h.in <- frame(0, 16000)
		<-s1.Audio
		s1.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 0.5})
		h.next(t)
		s1.End(&stages.UpstreamError{CloseCode: 1011})
		h.next(t)
		h.in <- frame(16000, 8000) // during the outage
		d := <-h.p.Dials
		s2 := stagestest.NewStream(16)
		d.Accept(s2)
		h.next(t)
		h.in <- frame(24000, 1600)
		td.Cmp(t, <-s2.Audio, stagestest.PCM(24000, 1600), "live audio only")
		td.Cmp(t, h.m.ReplayedSeconds.Get(), 0.0)
		td.Cmp(t, h.m.LostSeconds.Get(), td.N(1.0, 1e-9), "0.5 s uncovered + 0.5 s during the outage")
		close(h.in)
		<-s2.Controls
		s2.EndNormally()
		td.CmpNoError(t, <-h.err)
	})
}

// TestChainPacesTheReplay: a provider with PaceReplay gets a replayed
// backlog at that pace after its burst, not all at once.
func TestChainPacesTheReplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := stagestest.NewProvider(), stagestest.NewProvider()
		a.Named, b.Named = "a", "b"
		h := startConnectorWith(t, t.Context(), connector.Config{MinStreamMs: -1}, func(d *connector.Deps) {
			d.Provider = nil
			d.Chain = []connector.Link{{Provider: a}, {Provider: b, PaceReplay: 2, PaceBurstMs: 1000}}
		})
		h.next(t)
		s1 := stagestest.NewStream(64)
		(<-a.Dials).Accept(s1)
		h.next(t)
		for i := range 5 { // 5 s, no final
			h.in <- frame(i*16000, 16000)
			<-s1.Audio
		}
		s1.End(&stages.UpstreamError{CloseCode: 1008})
		h.next(t)
		s2 := stagestest.NewStream(64)
		(<-b.Dials).Accept(s2)
		opened := time.Now()
		var got int
		var at []time.Duration
		for got < 5*16000*2 {
			got += len(<-s2.Audio)
			at = append(at, time.Since(opened))
		}
		td.Cmp(t, at[0], time.Duration(0), "the burst at once")
		td.Cmp(t, at[len(at)-1], td.Between(1900*time.Millisecond, 2100*time.Millisecond), "the other 4 s at 2×: 2 s")
		close(h.in)
		<-s2.Controls
		s2.EndNormally()
		td.CmpNoError(t, <-h.err)
	})
}
