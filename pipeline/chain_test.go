package pipeline_test

import (
	"testing"
	"testing/synctest"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/pipeline"
	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/stagestest"
)

// TestListenFailsOverToTheNextProvider: the first provider's stream
// fails for good (1008) mid-session; the session moves to the fallback
// at once. The client sees stt_degraded, then, with the fallback's first
// result, ready with fallback_from_fake; each segment names the provider
// that produced its words.
func TestListenFailsOverToTheNextProvider(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := stagestest.NewProvider()
		b.Named = "b"
		g := newGatewayWith(t, pipeline.Config{}, pipeline.Deps{Fallbacks: []connector.Link{{Provider: b}}}, true)
		c := g.dial(t, "sample_rate=16000&codec=pcm16", testKey)
		statuses(t, c)
		up := stagestest.NewStream(64)
		(<-g.p.Dials).Accept(up)
		td.Cmp(t, next(t, c).Raw, td.JSON(`{"type":"service_status","status":"ready","provider":"fake"}`))
		td.CmpNoError(t, c.Write(t.Context(), websocket.MessageBinary, make([]byte, 64000))) // 2 s
		<-up.Audio
		up.Push(stages.Result{IsFinal: true, DurationSec: 1, Words: []stages.Word{{Word: "one", Punctuated: "One.", StartSec: 0.1, EndSec: 0.4}}})
		e := next(t, c)
		td.Cmp(t, e.Segments, td.Len(1))
		td.Cmp(t, e.Segments[0].STTProvider, "fake")
		up.End(&stages.UpstreamError{CloseCode: 1008, Reason: "policy"})
		td.Cmp(t, next(t, c).Status, "stt_degraded")
		up2 := stagestest.NewStream(64)
		(<-b.Dials).Accept(up2)
		replayed := 0
		for replayed < 32000 {
			replayed += len(<-up2.Audio)
		}
		td.Cmp(t, replayed, 32000, "the second second, not covered by a final, replayed into b")
		up2.Push(stages.Result{IsFinal: true, DurationSec: 1, Words: []stages.Word{{Word: "two", Punctuated: "Two.", StartSec: 0.1, EndSec: 0.4}}})
		td.Cmp(t, next(t, c).Raw, td.JSON(`{"type":"service_status","status":"ready","provider":"b","reason":"fallback_from_fake"}`))
		e = next(t, c)
		td.Cmp(t, e.Segments, td.Len(1))
		td.Cmp(t, e.Segments[0].STTProvider, "b")
		td.Cmp(t, stagestest.MetricValue(t, g.set, `earshot_upstream_failovers_total{from="fake",to="b"}`), 1.0)
		td.CmpNoError(t, c.Close(websocket.StatusNormalClosure, ""))
		endOnCloseStream(up2)
		synctest.Wait()
	})
}
