package pipeline_test

import (
	"context"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/gate"
	"earshot/stages/stagestest"
)

// rate is the sample rate of the graph tests' audio.
const rate = 16000

// at converts milliseconds to samples at rate.
func at(ms int) int64 { return int64(ms) * rate / 1000 }

// gated is a gate feeding a connector, as in a session's graph, with a
// channel-driven fake upstream.
type gated struct {
	g   *gate.Gate
	m   *connector.Metrics
	in  chan stages.Audio // the gate's input
	out chan stages.Update
	err chan error // the connector's Run
}

// startGated starts an active gate (default config, 10 ms fake windows)
// in front of a connector, and opens the upstream stream s.
func startGated(t *testing.T, ctx context.Context, cfg connector.Config, s *stagestest.Stream) *gated {
	t.Helper()
	return startGatedWith(t, ctx, gate.Config{Mode: gate.Active}, cfg, s)
}

// startGatedWith is startGated with the gate's config gcfg.
func startGatedWith(t *testing.T, ctx context.Context, gcfg gate.Config, cfg connector.Config, s *stagestest.Stream) *gated {
	t.Helper()
	p := stagestest.NewProvider()
	gd := &gated{
		m:   connector.NewMetrics(metrics.NewSet()),
		in:  make(chan stages.Audio, 64),
		out: make(chan stages.Update, 64),
		err: make(chan error, 1),
	}
	gd.g = gate.New(gcfg, rate, gate.Deps{
		NewDetector: (&stagestest.Detectors{Window: 160}).New, Metrics: gate.NewMetrics(metrics.NewSet()),
	})
	c := connector.New(cfg, stages.StreamConfig{SampleRateHz: rate, Channels: 1, Language: "en"},
		connector.Deps{Provider: p, Metrics: gd.m, Rand: stagestest.Half})
	mid := make(chan stages.Audio, 8)
	go func() { _ = gd.g.Run(ctx, gd.in, mid) }()
	go func() { gd.err <- c.Run(ctx, mid, gd.out) }()
	td.Cmp(t, gd.next(t).Kind, stages.EventConnecting)
	(<-p.Dials).Accept(s)
	td.Cmp(t, gd.next(t).Kind, stages.EventConnected)
	return gd
}

// next is the connector's next update.
func (gd *gated) next(t *testing.T) stages.Update {
	t.Helper()
	return stagestest.Next(t, gd.out)
}

// feed sends frames in real time: each when its last sample was captured.
func feed(in chan<- stages.Audio, frames []stages.Audio) {
	for _, f := range frames {
		time.Sleep(time.Duration(f.Samples()) * time.Second / rate)
		in <- f
	}
}

// control is a control message and when it reached the upstream.
type control struct {
	Ctl stages.Control
	At  time.Duration
}

// recordControls records the upstream's controls, as they come, until
// CloseStream, which it answers by ending the stream; it then delivers
// them.
func recordControls(s *stagestest.Stream, start time.Time) <-chan []control {
	done := make(chan []control, 1)
	go func() {
		var got []control
		for ctl := range s.Controls {
			got = append(got, control{ctl, time.Since(start).Round(time.Millisecond)})
			if ctl == stages.ControlCloseStream {
				s.EndNormally()
				break
			}
		}
		done <- got
	}()
	return done
}

// rounded rounds capture seconds to the microsecond, for comparing times.
func rounded(r stages.Result) stages.Result {
	round := func(v float64) float64 { return math.Round(v*1e6) / 1e6 }
	r.StartSec, r.DurationSec = round(r.StartSec), round(r.DurationSec)
	for i := range r.Words {
		r.Words[i].StartSec, r.Words[i].EndSec = round(r.Words[i].StartSec), round(r.Words[i].EndSec)
	}
	return r
}

// TestGateConnectorMapsResultTimesAcrossGaps: the gate leaves a gap in
// the capture indices sent; the provider's times (which count only audio
// sent) come back in capture time on both sides of it, and the silence
// never sent is not counted as lost.
func TestGateConnectorMapsResultTimesAcrossGaps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := stagestest.NewStream(256)
		gd := startGated(t, t.Context(), connector.Config{}, s)
		ctls := recordControls(s, time.Now())
		src := stagestest.Capture(rate, stagestest.Silence(2000), stagestest.Speech(1000), stagestest.Silence(3000), stagestest.Speech(1000), stagestest.Silence(1000))
		feed(gd.in, stagestest.Cut(src, rate, 1600))
		var up []byte
		for len(up) < 2*int(at(4000)) {
			up = append(up, <-s.Audio...)
		}
		// Sent: 1.7-3.7 s (pre-roll, speech, hangover), then 5.7-7.7 s.
		td.Cmp(t, up, append(append([]byte(nil), src[2*at(1700):2*at(3700)]...), src[2*at(5700):2*at(7700)]...))

		s.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 2, Words: []stages.Word{
			{Word: "one", StartSec: 0.5, EndSec: 0.9},
			{Word: "tail", StartSec: 1.8, EndSec: 2.0}, // ends where the gap is
		}})
		s.Push(stages.Result{IsFinal: true, StartSec: 2, DurationSec: 2, Words: []stages.Word{
			{Word: "two", StartSec: 2.4, EndSec: 2.8},
		}})
		td.Cmp(t, rounded(gd.next(t).Result), stages.Result{IsFinal: true, StartSec: 1.7, DurationSec: 2, Stream: 1, Provider: "fake",
			Words: []stages.Word{
				{Word: "one", StartSec: 2.2, EndSec: 2.6},
				{Word: "tail", StartSec: 3.5, EndSec: 3.7}, // not stretched over the gap
			}}, "capture time before the gap")
		td.Cmp(t, rounded(gd.next(t).Result), stages.Result{IsFinal: true, StartSec: 5.7, DurationSec: 2, Stream: 1, Provider: "fake",
			Words: []stages.Word{{Word: "two", StartSec: 6.1, EndSec: 6.5}}}, "capture time after the gap")
		close(gd.in)
		td.Cmp(t, <-ctls, []control{
			{stages.ControlFinalize, 3300 * time.Millisecond}, // 300 ms after the speech
			{stages.ControlFinalize, 7300 * time.Millisecond},
			{stages.ControlCloseStream, 8000 * time.Millisecond},
		}, "no pause Finalize for the hangover, no KeepAlive (never 5 s idle)")
		td.CmpNoError(t, <-gd.err)
		td.Cmp(t, gd.m.LostSeconds.Get(), 0.0, "the silence held back is not lost")
		td.Cmp(t, gd.m.GateFinalizes.Get(), uint64(2))
		td.Cmp(t, gd.m.IdleFinalizes.Get(), uint64(0))
		td.Cmp(t, gd.g.Stats().Held, at(4000))
	})
}
