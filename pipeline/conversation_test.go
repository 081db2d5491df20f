package pipeline_test

import (
	"encoding/json"
	"testing"
	"testing/synctest"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/pipeline"
	"earshot/stages"
	"earshot/stages/stagestest"
)

// TestListenConversations: the client is told when a conversation starts
// (conversation_session) and, when speech comes after more than
// conversation_timeout of silence, that it ended
// (memory_processing_started) and the next one started; the next
// conversation's segments count from its own first speech.
func TestListenConversations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateway(t, pipeline.Config{}, true)
		c := g.dial(t, "sample_rate=16000&codec=pcm16&conversation_timeout=130", testKey)
		statuses(t, c)
		up := stagestest.NewStream(64)
		(<-g.p.Dials).Accept(up)
		td.Cmp(t, next(t, c).Status, "ready")

		say := func(start, end float64, text string) {
			up.Push(stages.Result{IsFinal: true, Words: []stages.Word{{Word: text, Punctuated: text, StartSec: start, EndSec: end}}})
		}
		say(3, 4, "First.")
		first := nextAny(t, c)
		td.Cmp(t, first.Raw, td.JSON(`{"type":"conversation_session","conversation_id":$1,"status":"in_progress"}`, td.NotEmpty()))
		e := nextAny(t, c)
		td.Cmp(t, e.Segments, td.Len(1))
		td.Cmp(t, []float64{e.Segments[0].Start, e.Segments[0].End}, []float64{0, 1})

		say(100, 101, "Within.") // 96 s of silence < 130
		e = nextAny(t, c)
		td.Cmp(t, e.Segments, td.Len(1), "the same conversation")
		td.Cmp(t, e.Segments[0].Start, 97.0)

		say(232, 233, "Second.") // 131 s after the last word
		ended := nextAny(t, c)
		td.Cmp(t, ended.Raw, td.JSON(`{"type":"memory_processing_started","conversation_id":$1,
			"memory":{"id":$1,"status":"processing"}}`, td.Re(`^[0-9a-f-]{36}$`)))
		var endedID, firstID struct {
			ID string `json:"conversation_id"`
		}
		unmarshal(t, ended.Raw, &endedID)
		unmarshal(t, first.Raw, &firstID)
		td.Cmp(t, endedID.ID, firstID.ID)
		second := nextAny(t, c)
		td.Cmp(t, second.Raw, td.JSON(`{"type":"conversation_session","conversation_id":$1,"status":"in_progress"}`, td.Not(firstID.ID)))
		e = nextAny(t, c)
		td.Cmp(t, e.Segments, td.Len(1))
		td.Cmp(t, []float64{e.Segments[0].Start, e.Segments[0].End}, []float64{0, 1}, "times from the new conversation's first speech")
		td.Cmp(t, stagestest.MetricValue(t, g.set, "earshot_conversations_total"), 2.0)

		td.CmpNoError(t, c.Close(websocket.StatusNormalClosure, ""))
		endOnCloseStream(up)
		synctest.Wait()
	})
}

func unmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	td.Require(t).CmpNoError(json.Unmarshal(b, v))
}
