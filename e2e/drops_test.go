package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/stages/connector"
	"earshot/stages/retry"
)

// TestReconnectWithReplayLosesAndDuplicatesNothing streams 20 s of audio at
// 10× real time while the emulator drops every upstream stream after
// 400 ms: the client must get every word exactly once, with capture-clock
// times, and the gateway must count no lost audio.
func TestReconnectWithReplayLosesAndDuplicatesNothing(t *testing.T) {
	for _, abrupt := range []bool{false, true} {
		t.Run(fmt.Sprintf("abrupt=%v", abrupt), func(t *testing.T) {
			_, dgURL := startEmulator(t, emulate.Config{
				Faults: emulate.Faults{DropAfterMs: 400, DropAbrupt: abrupt},
			})
			_, url := startGateway(t, dgURL, pipeline.Config{Connector: connector.Config{
				Backoff: retry.BackoffConfig{BaseMs: 20, CapMs: 100}, MinStreamMs: 100,
			}})
			const rate = 16000
			pcm, starts := testrig.Alternating(rate, 20)
			c := dialClient(t, url+"?sample_rate=16000&codec=pcm16")
			c.ReadUntil(t, 10*time.Second, func(c *client) bool { return len(c.Statuses) == 4 })

			go func() { _ = c.Stream(pcm, rate, 10*time.Millisecond) }() // 10× real time
			c.ReadUntil(t, 30*time.Second, func(c *client) bool { return len(c.Transcript()) >= len(starts) })
			td.CmpNoError(t, c.Drain(time.Second), "any duplicate would arrive meanwhile")

			segs := c.Transcript()
			var got []float64
			for _, s := range segs {
				got = append(got, s.Start)
			}
			want := make([]any, len(starts))
			for i, s := range starts {
				want[i] = td.N(s-starts[0], 0.011)
			}
			td.Cmp(t, got, td.Slice([]float64{}, arrayOf(want)), "every word once, in capture time")
			ids := map[int]bool{}
			for i, s := range segs {
				ids[s.SpeakerID] = true
				if i > 0 {
					td.Cmp(t, s.SpeakerID, td.Not(segs[i-1].SpeakerID), "segment %d: the speakers alternate", i)
				}
				td.Cmp(t, s.End-s.Start, td.N(0.3, 0.011), "segment %d length", i)
			}
			// Each new stream's diarization labels are its own speakers.
			td.Cmp(t, len(ids), td.Gt(2), "labels scoped per upstream stream: %v", ids)
			td.Cmp(t, testrig.Metric(t, url, "earshot_audio_lost_seconds_total"), 0.0)
			td.Cmp(t, testrig.Metric(t, url, "earshot_upstream_reconnects_total"), td.Gte(2.0), "the drops happened")
			td.Cmp(t, testrig.Metric(t, url, "earshot_upstream_duplicate_words_total"), 0.0)
		})
	}
}

func arrayOf(items []any) td.ArrayEntries {
	e := td.ArrayEntries{}
	for i, v := range items {
		e[i] = v
	}
	return e
}
