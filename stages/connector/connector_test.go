package connector_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/retry"
	"earshot/stages/stagestest"
)

const rate = 16000

// errDown is a retryable refusal: the upstream is unavailable.
var errDown = &stages.UpstreamError{HTTPStatus: 503, Code: "UNAVAILABLE"}

func frame(startSample, n int) stages.Audio {
	return stages.Audio{PCM: stagestest.PCM(startSample, n), Start: int64(startSample), SampleRateHz: rate}
}

type harness struct {
	p   *stagestest.Provider
	in  chan stages.Audio
	out chan stages.Update
	err chan error
	m   *connector.Metrics
}

func startConnector(t *testing.T, ctx context.Context, cfg connector.Config) *harness {
	t.Helper()
	return startConnectorWith(t, ctx, cfg, nil)
}

// startConnectorWith is startConnector with the deps (Provider, Metrics
// and Rand set) passed through edit first, when edit is not nil.
func startConnectorWith(t *testing.T, ctx context.Context, cfg connector.Config,
	edit func(*connector.Deps)) *harness {
	t.Helper()
	h := &harness{
		p:   stagestest.NewProvider(),
		in:  make(chan stages.Audio, 8),
		out: make(chan stages.Update, 64),
		err: make(chan error, 1),
		m:   connector.NewMetrics(metrics.NewSet()),
	}
	deps := connector.Deps{Provider: h.p, Metrics: h.m, Rand: stagestest.Half}
	if edit != nil {
		edit(&deps)
	}
	if cfg.MessageMaxMs == 0 {
		// One frame per message, so that tests can follow each frame;
		// coalesce_test.go sets MessageMaxMs to test coalescing.
		cfg.MessageMaxMs = -1
	}
	c := connector.New(cfg, stages.StreamConfig{SampleRateHz: rate, Channels: 1, Language: "en"}, deps)
	go func() { h.err <- c.Run(ctx, h.in, h.out) }()
	return h
}

func (h *harness) next(t *testing.T) stages.Update {
	t.Helper()
	return stagestest.Next(t, h.out)
}

func kinds(h *harness) []stages.EventKind {
	var ks []stages.EventKind
	for u := range h.out {
		ks = append(ks, u.Kind)
	}
	return ks
}

func TestConnectorStreamsAudioAndMapsResults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{})
		td.Cmp(t, h.next(t).Kind, stages.EventConnecting)
		h.in <- frame(0, 1600) // buffered while dialing
		d := <-h.p.Dials
		td.Cmp(t, d.Config, stages.StreamConfig{SampleRateHz: rate, Channels: 1, Language: "en"})
		s := stagestest.NewStream(16)
		d.Accept(s)
		td.Cmp(t, h.next(t).Kind, stages.EventConnected)
		td.Cmp(t, <-s.Audio, stagestest.PCM(0, 1600))
		h.in <- frame(1600, 1600)
		td.Cmp(t, <-s.Audio, stagestest.PCM(1600, 1600))

		s.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 0.2,
			Words: []stages.Word{{Word: "hi", StartSec: 0.05, EndSec: 0.15}}})
		u := h.next(t)
		td.Cmp(t, u.Kind, stages.EventResult)
		td.Cmp(t, u.Result.Words[0].StartSec, td.N(0.05, 1e-9))

		close(h.in) // soft stop
		td.Cmp(t, <-s.Controls, stages.ControlCloseStream)
		s.Push(stages.Result{IsFinal: true, StartSec: 0.2, DurationSec: 0.0})
		s.EndNormally()
		td.Cmp(t, h.next(t).Kind, stages.EventResult, "last results forwarded after CloseStream")
		_, open := <-h.out
		td.CmpFalse(t, open, "output closed")
		td.CmpNoError(t, <-h.err)
		td.Cmp(t, s.Closes.Load(), td.Gte(int64(1)))
		td.Cmp(t, h.m.SentSeconds.Get(), td.N(0.2, 1e-9))
	})
}

func TestConnectorKeepAliveAfterIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{KeepAliveIdleMs: 5000, FinalizeIdleMs: -1})
		h.next(t)
		s := stagestest.NewStream(16)
		(<-h.p.Dials).Accept(s)
		h.next(t)
		start := time.Now()
		td.Cmp(t, <-s.Controls, stages.ControlKeepAlive)
		td.Cmp(t, time.Since(start), 5*time.Second)
		h.in <- frame(0, 160)
		<-s.Audio
		sent := time.Now()
		td.Cmp(t, <-s.Controls, stages.ControlKeepAlive)
		td.Cmp(t, time.Since(sent), 5*time.Second, "audio resets the idle timer")
		td.Cmp(t, h.m.KeepAlives.Get(), uint64(2))
		close(h.in)
		<-s.Controls
		s.EndNormally()
		td.CmpNoError(t, <-h.err)
	})
}

func TestConnectorCloseTimeoutBoundsTheWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{CloseTimeoutMs: 800})
		h.next(t)
		s := stagestest.NewStream(16)
		(<-h.p.Dials).Accept(s)
		h.next(t)
		close(h.in)
		td.Cmp(t, <-s.Controls, stages.ControlCloseStream)
		start := time.Now()
		td.CmpNoError(t, <-h.err) // the upstream never answers
		td.Cmp(t, time.Since(start), 800*time.Millisecond)
		<-s.Closed()
	})
}

func TestConnectorClientGoneDuringDialAborts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{})
		h.next(t)
		d := <-h.p.Dials
		h.in <- frame(0, 160)
		close(h.in)
		td.CmpNoError(t, <-h.err, "an aborted connect is not a failure")
		td.CmpNotNil(t, d.Ctx.Err(), "the in-flight dial was cancelled")
		td.CmpEmpty(t, kinds(h), "no EventFailed, nothing downstream")
		td.Cmp(t, h.p.Count.Load(), int64(1))
	})
}

func TestConnectorClientGoneDuringBackoffStopsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{Backoff: retry.BackoffConfig{BaseMs: 20_000}})
		h.next(t)
		(<-h.p.Dials).Refuse(errDown)
		time.Sleep(time.Second) // now inside a 10 s wait
		start := time.Now()
		close(h.in)
		td.CmpNoError(t, <-h.err)
		td.Cmp(t, time.Since(start), time.Duration(0))
		td.Cmp(t, h.p.Count.Load(), int64(1))
	})
}

func TestConnectorPermanentFailureTellsAndDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{})
		h.next(t)
		(<-h.p.Dials).Refuse(&stages.UpstreamError{HTTPStatus: 402, Code: "ASR_PAYMENT_REQUIRED", Reason: "out of credit"})
		u := h.next(t)
		td.Cmp(t, u, stages.Update{
			Kind: stages.EventFailed, Reason: "ASR_PAYMENT_REQUIRED: out of credit", Failure: stages.FailurePermanent,
			Provider: "fake", WasConnected: false,
		})
		for i := range 5 { // the earlier stages never block
			h.in <- frame(i*1600, 1600)
		}
		close(h.in)
		td.CmpNoError(t, <-h.err)
		td.Cmp(t, h.p.Count.Load(), int64(1), "not retried")
		td.Cmp(t, h.m.LostSeconds.Get(), td.N(0.5, 1e-9), "dropped audio is counted")
	})
}

func TestConnectorHardStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(t.Context())
		h := startConnector(t, ctx, connector.Config{})
		h.next(t)
		s := stagestest.NewStream(16)
		(<-h.p.Dials).Accept(s)
		h.next(t)
		stop := errors.New("server stopping")
		cancel(stop)
		td.Cmp(t, <-h.err, stop)
		<-s.Closed()
	})
}

func TestConnectorReconnectsAfterDropReplaysAndKeepsCaptureTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{MinStreamMs: 2000})
		h.next(t)
		s1 := stagestest.NewStream(16)
		(<-h.p.Dials).Accept(s1)
		td.Cmp(t, h.next(t).Kind, stages.EventConnected)
		h.in <- frame(0, 16000) // 1 s
		<-s1.Audio
		// A final covers the first half second; the second half is unacked.
		s1.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 0.5,
			Words: []stages.Word{{Word: "one", StartSec: 0.1, EndSec: 0.4}}})
		first := h.next(t).Result
		td.Cmp(t, first.Words, []stages.Word{{Word: "one", StartSec: 0.1, EndSec: 0.4}})
		td.Cmp(t, first.Stream, 1, "the first stream's labels")
		time.Sleep(3 * time.Second) // a healthy stream, then it drops
		s1.End(&stages.UpstreamError{CloseCode: 1011, Code: "NET-0001"})
		td.Cmp(t, h.next(t), td.Struct(stages.Update{Kind: stages.EventDegraded}, nil))
		h.in <- frame(48000, 8000) // audio while down is held
		d := <-h.p.Dials
		s2 := stagestest.NewStream(16)
		d.Accept(s2)
		td.Cmp(t, h.next(t).Kind, stages.EventRecovered)
		td.Cmp(t, <-s2.Audio, stagestest.PCM(8000, 8000), "the unacknowledged half second is replayed")
		td.Cmp(t, <-s2.Audio, stagestest.PCM(48000, 8000), "then the audio held while down")
		// The new stream starts at 0; its times come out on the capture clock.
		s2.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 1, Words: []stages.Word{
			{Word: "two", StartSec: 0.1, EndSec: 0.3},
			{Word: "back", StartSec: 0.6, EndSec: 0.9},
		}})
		u := h.next(t)
		td.Cmp(t, u.Result.Words, []stages.Word{
			{Word: "two", StartSec: 0.6, EndSec: 0.8},
			{Word: "back", StartSec: 3.1, EndSec: 3.4},
		}, "capture time: replayed audio at 0.5 s, held audio at 3 s")
		td.Cmp(t, u.Result.Stream, 2, "the new stream's speaker labels are its own")
		td.Cmp(t, h.m.Reconnects.Get(), uint64(1))
		td.Cmp(t, h.m.ReplayedSeconds.Get(), td.N(0.5, 1e-9))
		td.Cmp(t, h.m.LostSeconds.Get(), 0.0, "nothing lost")
		close(h.in)
		<-s2.Controls
		s2.Push(stages.Result{IsFinal: true, StartSec: 1, DurationSec: 0})
		s2.EndNormally()
		td.CmpNoError(t, <-h.err)
	})
}

func TestConnectorRingOverflowIsCountedAsLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{ReplayMaxMs: 1000})
		h.next(t)
		d := <-h.p.Dials
		for i := range 15 { // 1.5 s while dialing, 1 s fits
			h.in <- frame(i*1600, 1600)
		}
		synctest.Wait()
		s := stagestest.NewStream(32)
		d.Accept(s)
		h.next(t)
		td.Cmp(t, <-s.Audio, stagestest.PCM(8000, 1600), "the oldest half second was evicted")
		td.Cmp(t, h.m.LostSeconds.Get(), td.N(0.5, 1e-9))
		close(h.in)
		endOnCloseStream(s)
		td.CmpNoError(t, <-h.err)
	})
}

func TestConnectorFinalizesWhenAudioPauses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{FinalizeIdleMs: 1000, KeepAliveIdleMs: 5000})
		h.next(t)
		s := stagestest.NewStream(32)
		(<-h.p.Dials).Accept(s)
		h.next(t)
		// Audio every 100 ms: no pause, no Finalize.
		for i := range 20 {
			h.in <- frame(i*1600, 1600)
			<-s.Audio
			time.Sleep(100 * time.Millisecond)
		}
		paused := time.Now().Add(-100 * time.Millisecond)
		td.Cmp(t, <-s.Controls, stages.ControlFinalize, "the audio paused with words pending")
		td.Cmp(t, time.Since(paused), time.Second)
		synctest.Wait() // the connector counts the Finalize once it is sent
		td.Cmp(t, h.m.IdleFinalizes.Get(), uint64(1))
		// Its answer covers the audio; the pause goes on: only the
		// KeepAlive follows, once per pause.
		s.Push(stages.Result{IsFinal: true, FromFinalize: true, StartSec: 0, DurationSec: 2,
			Words: []stages.Word{{Word: "hello", StartSec: 0.5, EndSec: 0.9}}})
		td.Cmp(t, h.next(t).Kind, stages.EventResult)
		td.Cmp(t, <-s.Controls, stages.ControlKeepAlive)
		td.Cmp(t, time.Since(paused), 5*time.Second)

		// Audio again, then finals cover all of it before the pause
		// ends: nothing to ask for.
		h.in <- frame(32000, 1600)
		<-s.Audio
		s.Push(stages.Result{IsFinal: true, StartSec: 2, DurationSec: 0.1})
		td.Cmp(t, h.next(t).Kind, stages.EventResult)
		resumed := time.Now()
		td.Cmp(t, <-s.Controls, stages.ControlKeepAlive, "no Finalize: finals cover everything sent")
		td.Cmp(t, time.Since(resumed), 5*time.Second)
		td.Cmp(t, h.m.IdleFinalizes.Get(), uint64(1))
		close(h.in)
		endOnCloseStream(s)
		td.CmpNoError(t, <-h.err)
	})
}

func TestConnectorStalledStreamIsProbedThenReplaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{StallTimeoutMs: 10_000, KeepAliveIdleMs: 60_000, FinalizeIdleMs: -1})
		h.next(t)
		s1 := stagestest.NewStream(32)
		(<-h.p.Dials).Accept(s1)
		h.next(t)
		start := time.Now()
		h.in <- frame(0, 1600)
		<-s1.Audio
		td.Cmp(t, <-s1.Controls, stages.ControlFinalize, "a probe halfway")
		td.Cmp(t, time.Since(start), 5*time.Second)
		u := h.next(t) // nothing answered: the stream is replaced
		td.Cmp(t, u, td.Struct(stages.Update{Kind: stages.EventDegraded}, td.StructFields{"Reason": td.Contains("no result")}))
		td.Cmp(t, time.Since(start), 10*time.Second)
		<-s1.Closed()
		s2 := stagestest.NewStream(32)
		(<-h.p.Dials).Accept(s2)
		td.Cmp(t, h.next(t).Kind, stages.EventRecovered)
		td.Cmp(t, <-s2.Audio, stagestest.PCM(0, 1600), "the stalled audio is replayed")
		td.Cmp(t, h.m.Stalls.Get(), uint64(1))
		close(h.in)
		endOnCloseStream(s2)
		td.CmpNoError(t, <-h.err)
	})
}

func TestConnectorAnsweredProbeKeepsTheStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{StallTimeoutMs: 10_000, KeepAliveIdleMs: 60_000, FinalizeIdleMs: -1})
		h.next(t)
		s := stagestest.NewStream(32)
		(<-h.p.Dials).Accept(s)
		h.next(t)
		h.in <- frame(0, 1600)
		<-s.Audio
		td.Cmp(t, <-s.Controls, stages.ControlFinalize)
		s.Push(stages.Result{IsFinal: true, FromFinalize: true, StartSec: 0, DurationSec: 0.1})
		h.next(t)
		time.Sleep(time.Minute)
		select {
		case u := <-h.out:
			t.Fatalf("unexpected update %+v", u)
		default:
		}
		td.Cmp(t, h.m.Stalls.Get(), uint64(0))
		close(h.in)
		endOnCloseStream(s)
		td.CmpNoError(t, <-h.err)
	})
}

// endOnCloseStream answers CloseStream (skipping other controls) with the
// end of the stream, as Deepgram does.
func endOnCloseStream(s *stagestest.Stream) {
	for ctl := range s.Controls {
		if ctl == stages.ControlCloseStream {
			s.EndNormally()
			return
		}
	}
}

func TestConnectorQuickDeathWaitsBeforeRedial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{
			MinStreamMs: 2000, Backoff: retry.BackoffConfig{BaseMs: 1000},
		})
		h.next(t)
		s1 := stagestest.NewStream(16)
		(<-h.p.Dials).Accept(s1)
		h.next(t)
		s1.End(&stages.UpstreamError{CloseCode: 1011})
		h.next(t)
		died := time.Now()
		d := <-h.p.Dials
		td.Cmp(t, time.Since(died), 500*time.Millisecond, "no tight loop")
		d.Refuse(&stages.UpstreamError{HTTPStatus: 401})
		td.Cmp(t, h.next(t).Kind, stages.EventFailed)
		close(h.in)
		td.CmpNoError(t, <-h.err)
	})
}

// TestConnectorFailureAfterConnectingSaysSo: a stream that was open and
// then ended with a permanent error fails with WasConnected, which a
// client is told as a lost connection rather than a failed start.
func TestConnectorFailureAfterConnectingSaysSo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{})
		td.Cmp(t, h.next(t), stages.Update{Kind: stages.EventConnecting, Provider: "fake"})
		s := stagestest.NewStream(16)
		(<-h.p.Dials).Accept(s)
		td.Cmp(t, h.next(t), stages.Update{Kind: stages.EventConnected, Provider: "fake"})
		s.End(&stages.UpstreamError{CloseCode: 1008, Reason: "bad request", Err: stages.ErrPermanent})
		td.Cmp(t, h.next(t), td.SStruct(stages.Update{
			Kind: stages.EventFailed, Failure: stages.FailurePermanent, Provider: "fake", WasConnected: true,
		}, td.StructFields{"Reason": td.Contains("bad request")}))
		close(h.in)
		td.CmpNoError(t, <-h.err)
	})
}

func TestConnectorReportsCapacityFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{Backoff: retry.BackoffConfig{Attempts: 2}})
		h.next(t)
		busy := &stages.UpstreamError{HTTPStatus: 429, Code: "CAPACITY", Reason: "all decoders busy", Err: stages.ErrCapacity, RetryAfter: 3 * time.Second}
		(<-h.p.Dials).Refuse(busy)
		(<-h.p.Dials).Refuse(busy)
		td.Cmp(t, h.next(t), stages.Update{
			Kind: stages.EventFailed, Reason: "CAPACITY: all decoders busy", Failure: stages.FailureCapacity,
			Provider: "fake", RetryAfter: 3 * time.Second,
		})
		close(h.in)
		td.CmpNoError(t, <-h.err)
	})
}
