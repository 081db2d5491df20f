package pipeline_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/pipeline"
	"earshot/protocol"
	"earshot/stages"
	"earshot/stages/fanout"
	"earshot/stages/stagestest"
)

const uuidRe = `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`

func TestEncodeSegmentJSON(t *testing.T) {
	s := fanout.NewSegmenter(fanout.SegmenterConfig{}, "deepgram", nil)
	s.Add(stagestest.Final(stagestest.Say(1, 3.2, 5.68, "Hey, did you get the deck I sent?")))
	changed, _ := s.Flush()
	frames, code, _, err := pipeline.EncodeMessage(stages.Message{Segments: changed})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, code, 0)
	td.Require(t).Len(frames, 1)
	b := frames[0]
	td.Cmp(t, json.RawMessage(b), td.JSON(`[{
		"id": $1, "text": "Hey, did you get the deck I sent?",
		"speaker": "SPEAKER_1", "speaker_id": 1, "is_user": false, "person_id": null,
		"start": 0.0, "end": 2.48, "translations": [],
		"speech_profile_processed": false, "stt_provider": "deepgram"
	}]`, td.Re(uuidRe)))
	// Field order and number forms exactly as the client sees them.
	td.Cmp(t, string(b), `[{"id":"`+changed[0].ID+`","text":"Hey, did you get the deck I sent?",`+
		`"speaker":"SPEAKER_1","speaker_id":1,"is_user":false,"person_id":null,"start":0,"end":2.48,`+
		`"translations":[],"speech_profile_processed":false,"stt_provider":"deepgram"}]`)
	segs, _, err := protocol.Decode(b)
	td.CmpNoError(t, err)
	td.Cmp(t, segs, td.Len(1))
	td.Cmp(t, segs[0].ID, changed[0].ID, "the client decodes what the server encodes")
}

func TestEncodeStatesAndFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		msg    stages.Message
		frames []string
		code   int
		reason string
	}{
		{"connecting", stages.Message{Event: stages.EventConnecting, Provider: "deepgram"},
			[]string{`{"type":"service_status","status":"stt_initiating","status_text":"STT Service Starting"}`}, 0, ""},
		{"ready", stages.Message{Event: stages.EventConnected, Provider: "deepgram"},
			[]string{`{"type":"service_status","status":"ready","provider":"deepgram"}`}, 0, ""},
		{"degraded", stages.Message{Event: stages.EventDegraded, Reason: "NET-0001", Provider: "deepgram"},
			[]string{`{"type":"service_status","status":"stt_degraded","status_text":"NET-0001","provider":"deepgram"}`}, 0, ""},
		{"recovered", stages.Message{Event: stages.EventRecovered, Provider: "deepgram"},
			[]string{`{"type":"service_status","status":"stt_recovered","provider":"deepgram"}`}, 0, ""},
		{"channel degraded", stages.Message{Event: stages.EventDegraded, Reason: "NET-0001", Provider: "deepgram", Channel: 2},
			[]string{`{"type":"service_status","status":"stt_degraded","status_text":"channel 2: NET-0001","provider":"deepgram","channel":2}`}, 0, ""},
		{"channel recovered", stages.Message{Event: stages.EventRecovered, Provider: "deepgram", Channel: 2},
			[]string{`{"type":"service_status","status":"stt_recovered","status_text":"channel 2","provider":"deepgram","channel":2}`}, 0, ""},
		{"deleted", stages.Message{Deleted: []string{"a", "b"}},
			[]string{`{"type":"segments_deleted","segment_ids":["a","b"]}`}, 0, ""},
		{"permanent", stages.Message{Event: stages.EventFailed, Failure: stages.FailurePermanent, Reason: "ASR_PAYMENT_REQUIRED: out of credit", Provider: "deepgram"},
			[]string{`{"type":"service_status","status":"stt_failed","status_text":"ASR_PAYMENT_REQUIRED: out of credit","provider":"deepgram",` +
				`"reason":"initialization_failed","outcome":"config_error","retryable":false,"retry_after":null}`},
			protocol.CloseInternalError, "transcription_service_unavailable"},
		{"exhausted", stages.Message{Event: stages.EventFailed, Failure: stages.FailureUnavailable, Provider: "deepgram", WasConnected: true},
			[]string{`{"type":"service_status","status":"stt_failed","status_text":"speech-to-text unavailable","provider":"deepgram",` +
				`"reason":"connection_lost","outcome":"upstream_error","retryable":true,"retry_after":null}`},
			protocol.CloseInternalError, "transcription_service_unavailable"},
		{"unspecified failure", stages.Message{Event: stages.EventFailed},
			[]string{`{"type":"service_status","status":"stt_failed","status_text":"speech-to-text unavailable",` +
				`"reason":"initialization_failed","outcome":"upstream_error","retryable":true,"retry_after":null}`},
			protocol.CloseInternalError, "transcription_service_unavailable"},
		{"capacity", stages.Message{Event: stages.EventFailed, Failure: stages.FailureCapacity, Reason: "CAPACITY: all decoders busy",
			Provider: "local", RetryAfter: 1500 * time.Millisecond},
			[]string{`{"type":"service_status","status":"stt_failed","status_text":"CAPACITY: all decoders busy","provider":"local",` +
				`"reason":"initialization_failed","outcome":"upstream_error","retryable":true,"retry_after":2}`},
			protocol.CloseTryAgainLater, "transcription_service_busy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames, code, reason, err := pipeline.EncodeMessage(tc.msg)
			td.Require(t).CmpNoError(err)
			var got []string
			for _, f := range frames {
				got = append(got, string(f))
			}
			td.Cmp(t, got, tc.frames)
			td.Cmp(t, code, tc.code)
			td.Cmp(t, reason, tc.reason)
		})
	}
}
