package e2e_test

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/stages/connector"
	"earshot/stages/deepgram"
	"earshot/stages/retry"
	"earshot/stages/soniox"
)

// TestFailoverFromDeepgramToSoniox: the Deepgram emulator is killed in
// the middle of a 20-word session (streamed at 10× real time); the
// gateway's chain moves to the Soniox emulator with the replay ring.
// Every word arrives exactly once at its capture time, the client is
// told stt_degraded and then ready with fallback_from_deepgram, and each
// segment names the provider that heard it: Deepgram before the kill,
// Soniox after.
func TestFailoverFromDeepgramToSoniox(t *testing.T) {
	emu, err := emulate.NewServer(emulate.Config{APIKey: upstreamKey}, testrig.Quiet())
	td.Require(t).CmpNoError(err)
	dgServer := httptest.NewServer(emu.Handler())
	kill := func() {
		dgServer.CloseClientConnections()
		dgServer.Close()
		_ = emu.Close()
	}
	t.Cleanup(kill)
	_, sxURL := testrig.StartSonioxEmulator(t, emulate.Config{})

	dg, err := deepgram.New(deepgram.Config{URL: "ws" + strings.TrimPrefix(dgServer.URL, "http") + "/v1/listen", APIKey: upstreamKey})
	td.Require(t).CmpNoError(err)
	sx, err := soniox.New(soniox.Config{URL: sxURL, APIKey: upstreamKey})
	td.Require(t).CmpNoError(err)
	_, url := testrig.StartGatewayProvider(t, dg, pipeline.Config{
		Connector: connector.Config{
			Backoff:         retry.BackoffConfig{BaseMs: 50, CapMs: 200},
			FailoverAfterMs: 500,
		},
	}, pipeline.Deps{Fallbacks: []connector.Link{{Provider: sx, Languages: soniox.Languages}}})

	const rate = 16000
	pcm, starts := testrig.Alternating(rate, 20)
	c := dialClient(t, url+"?sample_rate=16000&codec=pcm16")
	c.ReadUntil(t, 10*time.Second, func(c *client) bool { return slices.Contains(c.Statuses, "ready") })
	half := len(pcm) / 2 &^ 1
	td.CmpNoError(t, c.Stream(pcm[:half], rate, 10*time.Millisecond))
	// Mid-utterance: burst 10 (at 10.5 s) is under way in the audio sent.
	c.ReadUntil(t, 30*time.Second, func(c *client) bool { return len(c.Transcript()) >= 5 })
	kill()
	go func() { _ = c.Stream(pcm[half:], rate, 10*time.Millisecond) }()
	c.ReadUntil(t, time.Minute, func(c *client) bool { return len(c.Transcript()) >= len(starts) })
	td.CmpNoError(t, c.Drain(time.Second), "any duplicate would arrive meanwhile")

	segs := c.Transcript()
	var got []float64
	providers := map[string]int{}
	for _, s := range segs {
		got = append(got, s.Start)
		providers[s.STTProvider]++
	}
	want := make([]any, len(starts))
	for i, s := range starts {
		want[i] = td.N(s-starts[0], 0.02)
	}
	td.Cmp(t, got, td.Slice([]float64{}, arrayOf(want)), "every word once, at its capture time")
	td.Cmp(t, providers["deepgram"], td.Gte(5), "words before the kill: %v", providers)
	td.Cmp(t, providers["soniox"], td.Gte(5), "words after it: %v", providers)
	td.Cmp(t, providers["deepgram"]+providers["soniox"], len(starts))
	onSoniox := false
	for _, s := range segs {
		onSoniox = onSoniox || s.STTProvider == "soniox"
		if onSoniox {
			td.Cmp(t, s.STTProvider, "soniox", "no deepgram segment after soniox's first: %s", s.Text)
		}
	}
	td.Cmp(t, c.Statuses, []string{"initiating", "in_progress_conversations_processing", "stt_initiating",
		"ready", "stt_degraded", "ready"}, "ready again once soniox answered")
	td.Cmp(t, testrig.Metric(t, url, `earshot_upstream_failovers_total{from="deepgram",to="soniox"}`), 1.0)
	td.Cmp(t, testrig.Metric(t, url, "earshot_audio_lost_seconds_total"), 0.0)
}

// TestAcceptedThenDied: the Deepgram emulator accepts every stream and
// drops it 300 ms later (Omi #12469). After three such deaths the chain
// moves to Soniox, which transcribes the rest; each redial waited its
// backoff, so there was no tight reconnect loop.
func TestAcceptedThenDied(t *testing.T) {
	emu, dgURL := startEmulator(t, emulate.Config{Faults: emulate.Faults{DropAfterMs: 300}})
	_, sxURL := testrig.StartSonioxEmulator(t, emulate.Config{})
	dg, err := deepgram.New(deepgram.Config{URL: dgURL, APIKey: upstreamKey})
	td.Require(t).CmpNoError(err)
	sx, err := soniox.New(soniox.Config{URL: sxURL, APIKey: upstreamKey})
	td.Require(t).CmpNoError(err)
	_, url := testrig.StartGatewayProvider(t, dg, pipeline.Config{
		Connector: connector.Config{Backoff: retry.BackoffConfig{BaseMs: 200, CapMs: 1000}, FailoverAfterMs: -1},
	}, pipeline.Deps{Fallbacks: []connector.Link{{Provider: sx, Languages: soniox.Languages}}})

	const rate = 16000
	pcm, starts := testrig.Alternating(rate, 8)
	c := dialClient(t, url+"?sample_rate=16000&codec=pcm16")
	c.ReadUntil(t, 10*time.Second, func(c *client) bool { return slices.Contains(c.Statuses, "ready") })
	began := time.Now()
	go func() { _ = c.Stream(pcm, rate, 20*time.Millisecond) }() // 5× real time
	c.ReadUntil(t, time.Minute, func(c *client) bool { return len(c.Transcript()) >= len(starts) })
	td.CmpNoError(t, c.Drain(500*time.Millisecond))
	took := time.Since(began)
	td.Cmp(t, c.Transcript(), td.Len(len(starts)), "every word once")
	st := emu.Stats()
	td.Cmp(t, st.Accepted, td.Between(int64(3), int64(4)), "three quick deaths, then the next provider (the first stream's included)")
	td.Cmp(t, testrig.Metric(t, url, `earshot_upstream_failovers_total{from="deepgram",to="soniox"}`), 1.0)
	td.Cmp(t, testrig.Metric(t, url, "earshot_audio_lost_seconds_total"), 0.0)
	t.Logf("%d Deepgram streams accepted, all words in %v", st.Accepted, took.Round(time.Millisecond))
}

// TestFailBackAtASilence: Deepgram refuses the first upgrades, so the
// session starts on Soniox; once Deepgram takes streams again the
// session moves back to it at a pause between words. Every word arrives
// once, at its capture time; the words before the move are Soniox's and
// those after it Deepgram's, never one word split between them.
func TestFailBackAtASilence(t *testing.T) {
	_, dgURL := startEmulator(t, emulate.Config{Faults: emulate.Faults{RefuseFirst: 3, RefuseStatus: 503}})
	_, sxURL := testrig.StartSonioxEmulator(t, emulate.Config{})
	dg, err := deepgram.New(deepgram.Config{URL: dgURL, APIKey: upstreamKey})
	td.Require(t).CmpNoError(err)
	sx, err := soniox.New(soniox.Config{URL: sxURL, APIKey: upstreamKey})
	td.Require(t).CmpNoError(err)
	_, url := testrig.StartGatewayProvider(t, dg, pipeline.Config{
		Connector: connector.Config{Backoff: retry.BackoffConfig{BaseMs: 20, CapMs: 50, Attempts: 3}, FailbackCheckMs: 500},
	}, pipeline.Deps{Fallbacks: []connector.Link{{Provider: sx, Languages: soniox.Languages}}})

	const rate = 16000
	pcm, starts := testrig.Alternating(rate, 12)
	c := dialClient(t, url+"?sample_rate=16000&codec=pcm16")
	c.ReadUntil(t, 10*time.Second, func(c *client) bool { return slices.Contains(c.Statuses, "ready") })
	go func() { _ = c.Stream(pcm, rate, 50*time.Millisecond) }() // 2× real time
	c.ReadUntil(t, time.Minute, func(c *client) bool { return len(c.Transcript()) >= len(starts) })
	td.CmpNoError(t, c.Drain(time.Second))

	segs := c.Transcript()
	var got []float64
	var order []string
	for _, s := range segs {
		got = append(got, s.Start)
		if len(order) == 0 || order[len(order)-1] != s.STTProvider {
			order = append(order, s.STTProvider)
		}
	}
	want := make([]any, len(starts))
	for i, s := range starts {
		want[i] = td.N(s-starts[0], 0.02)
	}
	td.Cmp(t, got, td.Slice([]float64{}, arrayOf(want)), "every word once, at its capture time")
	td.Cmp(t, order, []string{"soniox", "deepgram"}, "started on soniox, moved back to deepgram once")
	td.Cmp(t, testrig.Metric(t, url, `earshot_upstream_failbacks_total{from="soniox",to="deepgram"}`), 1.0)
	td.Cmp(t, testrig.Metric(t, url, "earshot_audio_lost_seconds_total"), 0.0)
	td.Cmp(t, c.Statuses[len(c.Statuses)-1], "ready", "ready again on deepgram")
}
