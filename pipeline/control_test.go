package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/pipeline"
	"earshot/stages"
	"earshot/stages/stagestest"
)

// TestListenAppliesSpeakerAssigned: the app's speaker_assigned gives
// that speaker's segments, already sent and future, the person_id; the
// changed segment is re-sent with its id; is_user stays the provider's.
func TestListenAppliesSpeakerAssigned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateway(t, pipeline.Config{}, true)
		c := g.dial(t, "sample_rate=16000&codec=pcm16", testKey)
		ctx := context.Background()
		statuses(t, c)
		up := stagestest.NewStream(64)
		(<-g.p.Dials).Accept(up)
		next(t, c) // ready
		up.Push(stages.Result{IsFinal: true, Words: []stages.Word{
			{Word: "hello", Punctuated: "Hello.", StartSec: 0.5, EndSec: 0.9, Speaker: 1},
		}})
		first := next(t, c)
		td.Require(t).Len(first.Segments, 1)
		id := first.Segments[0].ID
		td.Cmp(t, first.Segments[0].PersonID, td.Nil())

		td.CmpNoError(t, c.Write(ctx, websocket.MessageText, []byte(
			`{"type":"speaker_assigned","speaker_id":1,"person_id":"p-42","person_name":"Ann","segment_ids":["`+id+`"]}`)))
		again := next(t, c)
		td.Cmp(t, again.Raw, td.JSON(`[{"id": $1, "text": "Hello.", "speaker": "SPEAKER_1", "speaker_id": 1,
			"is_user": false, "person_id": "p-42", "start": 0, "end": 0.4, "translations": [],
			"speech_profile_processed": false, "stt_provider": "fake"}]`, id))

		// A later segment of that speaker carries the person from the start.
		up.Push(stages.Result{IsFinal: true, Words: []stages.Word{
			{Word: "again", Punctuated: "Again.", StartSec: 9, EndSec: 9.5, Speaker: 1},
		}})
		later := next(t, c)
		td.Require(t).Len(later.Segments, 1)
		td.Cmp(t, later.Segments[0].PersonID, td.Ptr("p-42"))
		td.Cmp(t, stagestest.MetricValue(t, g.set, `earshot_client_messages_total{type="speaker_assigned"}`), 1.0)
	})
}

// TestListenIgnoresOtherMessagesAndCountsThem: the app's other messages,
// unknown types, malformed and oversized text never end a session; each is
// counted by kind, and the session's audio still flows.
func TestListenIgnoresOtherMessagesAndCountsThem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateway(t, pipeline.Config{TextLimitBytes: 1024}, true)
		c := g.dial(t, "sample_rate=16000&codec=pcm16", testKey)
		ctx := context.Background()
		statuses(t, c)
		up := stagestest.NewStream(64)
		(<-g.p.Dials).Accept(up)
		next(t, c) // ready
		for _, msg := range []string{
			`{"type":"image_chunk","id":"i","index":0,"total":2,"data":"AAAA"}`,
			`{"type":"suggested_transcript","segments":[],"stt_provider":"on-device"}`,
			`{"type":"skip_question"}`,
			`{"type":"client_state","foreground":true,"transcript_visible":false}`,
			`{"type":"something_new","x":1}`,
			`{"type":"auth","token":"late"}`,
			`not json`,
			`{"no":"type"}`,
			`{"type":"speaker_assigned","speaker_id":-1,"person_id":"p"}`,
			`{"type":"speaker_assigned","person_id":"p"}`,
			`{"type":"image_chunk","data":"` + strings.Repeat("A", 2000) + `"}`,
		} {
			td.CmpNoError(t, c.Write(ctx, websocket.MessageText, []byte(msg)))
		}
		td.CmpNoError(t, c.Write(ctx, websocket.MessageBinary, make([]byte, 320)))
		td.Cmp(t, len(<-up.Audio), 320, "the session goes on")
		for kind, n := range map[string]float64{
			"image_chunk": 1, "suggested_transcript": 1, "skip_question": 1, "client_state": 1,
			"other": 2, "malformed": 4, "too_large": 1, "speaker_assigned": 0,
		} {
			td.Cmp(t, stagestest.MetricValue(t, g.set, `earshot_client_messages_total{type="`+kind+`"}`), n, kind)
		}
	})
}
