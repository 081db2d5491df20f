package protocol_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/protocol"
)

func TestDecode(t *testing.T) {
	segs, ev, err := protocol.Decode([]byte(` [{"id":"a","text":"Hi.","speaker":"SPEAKER_0","speaker_id":0,` +
		`"is_user":false,"person_id":null,"start":0.5,"end":1,"translations":[],` +
		`"speech_profile_processed":false,"stt_provider":"local"}]`))
	td.CmpNoError(t, err)
	td.Cmp(t, ev, protocol.Event{})
	td.Cmp(t, segs, []protocol.Segment{{ID: "a", Text: "Hi.", Speaker: "SPEAKER_0", Start: 0.5, End: 1,
		Translations: []protocol.Translation{}, STTProvider: "local"}})

	_, ev, err = protocol.Decode([]byte(`{"type":"service_status","status":"stt_degraded","status_text":"NET-0001"}`))
	td.CmpNoError(t, err)
	td.Cmp(t, ev, protocol.ServiceStatus(protocol.StatusSTTDegraded, "NET-0001"))

	_, ev, err = protocol.Decode([]byte(`{"type":"segments_deleted","segment_ids":["a","b"]}`))
	td.CmpNoError(t, err)
	td.Cmp(t, ev, protocol.SegmentsDeleted([]string{"a", "b"}))

	for _, b := range []string{"ping", "", "   ", `{"status":"ready"}`, `[{"id":`, `{"type":`, "hello"} {
		_, _, err := protocol.Decode([]byte(b))
		td.Cmp(t, err, td.ErrorIs(protocol.ErrNotProtocol), "%q", b)
	}
}

func TestEncodeEventOmitsEmptyFields(t *testing.T) {
	b, err := protocol.EncodeEvent(protocol.ServiceStatus(protocol.StatusReady, ""))
	td.CmpNoError(t, err)
	td.Cmp(t, string(b), `{"type":"service_status","status":"ready"}`)
	b, err = protocol.EncodeEvent(protocol.SegmentsDeleted([]string{"x"}))
	td.CmpNoError(t, err)
	td.Cmp(t, string(b), `{"type":"segments_deleted","segment_ids":["x"]}`)
}

// FuzzDecode: any text frame decodes without panicking; what decodes
// encodes again and decodes to the same thing (an empty segment_ids
// list aside, which is left out).
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`[{"id":"a","text":"Hi.","start":0,"end":1,"translations":[]}]`))
	f.Add([]byte(`{"type":"service_status","status":"ready"}`))
	f.Add([]byte(`{"type":"segments_deleted","segment_ids":["a"]}`))
	f.Add([]byte("ping"))
	f.Fuzz(func(t *testing.T, b []byte) {
		segs, ev, err := protocol.Decode(b)
		if err != nil {
			return
		}
		var again []byte
		if ev.Type != "" {
			again, err = protocol.EncodeEvent(ev)
		} else {
			again, err = protocol.EncodeSegments(segs)
		}
		if err != nil {
			t.Fatalf("decoded %q but cannot encode it: %v", b, err)
		}
		segs2, ev2, err := protocol.Decode(again)
		if err != nil {
			t.Fatalf("re-encoded %q does not decode: %v", again, err)
		}
		if ev.Type != "" {
			// An empty segment_ids list is left out, and comes back nil.
			td.Cmp(t, ev2, td.Struct(protocol.Event{Type: ev.Type, Status: ev.Status, StatusText: ev.StatusText},
				td.StructFields{"SegmentIDs": td.Len(len(ev.SegmentIDs))}))
		} else {
			td.Cmp(t, len(segs2), len(segs))
		}
	})
}

// TestSTTFailedCarriesEveryField: Omi's stt_failed status always carries
// outcome, provider, retryable, reason and retry_after (null when the
// provider named no wait), and decodes back to the same event.
func TestSTTFailedCarriesEveryField(t *testing.T) {
	wait := 30
	for _, tc := range []struct {
		ev   protocol.Event
		want string
	}{
		{protocol.STTFailed("deepgram", protocol.OutcomeConfigError, protocol.FailedInitialization, "out of credit", false, nil),
			`{"type":"service_status","status":"stt_failed","status_text":"out of credit","provider":"deepgram",` +
				`"reason":"initialization_failed","outcome":"config_error","retryable":false,"retry_after":null}`},
		{protocol.STTFailed("local", protocol.OutcomeUpstreamError, protocol.FailedConnectionLost, "", true, &wait),
			`{"type":"service_status","status":"stt_failed","provider":"local",` +
				`"reason":"connection_lost","outcome":"upstream_error","retryable":true,"retry_after":30}`},
	} {
		b, err := protocol.EncodeEvent(tc.ev)
		td.CmpNoError(t, err)
		td.Cmp(t, string(b), tc.want)
		_, ev, err := protocol.Decode(b)
		td.CmpNoError(t, err)
		td.Cmp(t, ev, tc.ev)
	}
	// Other events leave the failure fields out.
	b, err := protocol.EncodeEvent(protocol.Event{Type: protocol.TypeServiceStatus, Status: protocol.StatusReady, Provider: "deepgram"})
	td.CmpNoError(t, err)
	td.Cmp(t, string(b), `{"type":"service_status","status":"ready","provider":"deepgram"}`)
}
