package bench_test

import (
	"math"
	"testing"
	"time"

	"earshot/emulate"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/protocol"
	"earshot/stages/connector"
	"earshot/stages/retry"
)

// BenchmarkDrops streams 5 minutes of generated speech-like bursts (one
// word a second, alternating speakers) through the gateway at 10× real
// time, once against a healthy emulator and once against one that drops
// every stream after 20 s of audio (2 s of wall time at that pace), with a
// graceful 1011 close and with an abrupt TCP close. It reports, per run,
// word recall against the signal, duplicated words, the reconnects and the
// audio the gateway counted as lost. Run it with -benchtime 1x.
func BenchmarkDrops(b *testing.B) {
	const (
		rate    = 16000
		words   = 300 // one a second: 5 minutes
		pace    = 10 * time.Millisecond
		dropsMs = 2000 // 20 s of audio at 10× real time
	)
	for _, sc := range []struct {
		name   string
		faults emulate.Faults
	}{
		{"healthy", emulate.Faults{}},
		{"drop1011", emulate.Faults{DropAfterMs: dropsMs}},
		{"dropTCP", emulate.Faults{DropAfterMs: dropsMs, DropAbrupt: true}},
	} {
		b.Run(sc.name, func(b *testing.B) {
			for range b.N {
				_, dgURL := testrig.StartEmulator(b, emulate.Config{Faults: sc.faults})
				_, url := testrig.StartGateway(b, dgURL, pipeline.Config{Connector: connector.Config{
					Backoff: retry.BackoffConfig{BaseMs: 50, CapMs: 500},
				}})
				pcm, starts := testrig.Alternating(rate, words)
				c := testrig.Dial(b, url+"?sample_rate=16000&codec=pcm16")
				c.ReadUntil(b, 10*time.Second, func(c *testrig.Client) bool { return len(c.Statuses) == 4 })
				go func() { _ = c.Stream(pcm, rate, pace) }()
				c.ReadUntil(b, 2*time.Minute, func(c *testrig.Client) bool { return len(c.Transcript()) >= len(starts) })
				if err := c.Drain(time.Second); err != nil {
					b.Fatal(err)
				}
				found, dups := score(c.Transcript(), starts)
				b.ReportMetric(float64(found)/float64(len(starts)), "recall")
				b.ReportMetric(float64(dups), "duplicates")
				b.ReportMetric(testrig.Metric(b, url, "earshot_upstream_reconnects_total"), "reconnects")
				b.ReportMetric(testrig.Metric(b, url, "earshot_audio_lost_seconds_total"), "lost-s")
				b.ReportMetric(testrig.Metric(b, url, "earshot_audio_replayed_seconds_total"), "replayed-s")
			}
		})
	}
}

// score matches segments to the signal's bursts by capture time (each
// burst is a segment of its own) and counts bursts found and segments
// that match an already found burst or none.
func score(segs []protocol.Segment, starts []float64) (found, dups int) {
	seen := make([]bool, len(starts))
	for _, s := range segs {
		// Segment times count from the first burst, and bursts are a
		// second apart: burst i starts at i s.
		i := int(math.Round(s.Start))
		if i < 0 || i >= len(starts) || math.Abs(s.Start-(starts[i]-starts[0])) > 0.011 {
			dups++
			continue
		}
		if seen[i] {
			dups++
			continue
		}
		seen[i] = true
		found++
	}
	return found, dups
}
