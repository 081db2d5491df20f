//go:build pocketsphinx

package e2e_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	streamclient "earshot/client"
	"earshot/internal/testfix"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/stages/connector"
	"earshot/stages/deepgram"
	"earshot/stages/local"
	"earshot/stages/retry"
	"earshot/stages/soniox"
)

// deadURL is a ws:// URL where nothing listens any more.
func deadURL(t *testing.T, path string) string {
	t.Helper()
	hs := httptest.NewServer(nil)
	u := "ws" + strings.TrimPrefix(hs.URL, "http") + path
	hs.Close()
	return u
}

// TestLocalIsTheLastResort: with both cloud providers of the chain down
// (nothing listens at their addresses), a session whose chain ends with
// the embedded recognizer is transcribed by it: the same word error rate
// as a gateway that only has the recognizer, after one failover to each
// next provider.
func TestLocalIsTheLastResort(t *testing.T) {
	p := testfix.LocalProvider(t, local.Config{PoolSize: 1})
	conv, ref := synthConversation(t)
	run := func(url string) streamclient.SessionResult {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		rep, err := streamclient.Run(ctx, streamclient.Config{
			URL: url, Key: testrig.ClientKey, SampleRate: testrig.ConversationRateHz, Codec: "pcm16",
			Audio: conv.PCM, Pace: gateClockPace, Mode: streamclient.ModePodcast, WaitFinal: 2 * time.Second, Ref: ref,
		})
		td.Require(t).CmpNoError(err)
		return rep.Sessions[0]
	}
	_, alone := testrig.StartGatewayProvider(t, p, pipeline.Config{}, pipeline.Deps{})
	want := run(alone)
	waitIdle(t, p)

	dg, err := deepgram.New(deepgram.Config{URL: deadURL(t, "/v1/listen"), APIKey: testrig.UpstreamKey})
	td.Require(t).CmpNoError(err)
	sx, err := soniox.New(soniox.Config{URL: deadURL(t, "/transcribe-websocket"), APIKey: testrig.UpstreamKey})
	td.Require(t).CmpNoError(err)
	_, chained := testrig.StartGatewayProvider(t, dg, pipeline.Config{
		Connector: connector.Config{Backoff: retry.BackoffConfig{BaseMs: 20, CapMs: 50, Attempts: 2}},
	}, pipeline.Deps{Fallbacks: []connector.Link{
		{Provider: sx, Languages: soniox.Languages},
		{Provider: p, Languages: local.Languages},
	}})
	got := run(chained)
	td.Cmp(t, got.CloseCode, 1000)
	td.Cmp(t, got.Statuses, td.Contains("ready"))
	td.CmpNotNil(t, got.WER)
	td.Cmp(t, got.WER.Rate, td.Between(want.WER.Rate-0.02, want.WER.Rate+0.02), "alone %.3f, as the last resort %.3f", want.WER.Rate, got.WER.Rate)
	td.Cmp(t, testrig.Metric(t, chained, `earshot_upstream_failovers_total{from="deepgram",to="soniox"}`), 1.0)
	td.Cmp(t, testrig.Metric(t, chained, `earshot_upstream_failovers_total{from="soniox",to="local"}`), 1.0)
	td.Cmp(t, testrig.Metric(t, chained, `earshot_upstream_sent_seconds_total{provider="local"}`), td.Gt(0.0))
}
