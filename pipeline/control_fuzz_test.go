package pipeline_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/pipeline"
)

// FuzzParseSpeakerAssigned: any text from a client either parses into an
// assignment within the bounds (speaker id in [0, 1024), person id of at
// most 256 bytes, at most 4096 segment ids) or is refused; it never
// panics.
func FuzzParseSpeakerAssigned(f *testing.F) {
	for _, s := range []string{
		`{"type":"speaker_assigned","speaker_id":1,"person_id":"p","person_name":"Ann","segment_ids":["a","b"]}`,
		`{"type":"speaker_assigned","speaker_id":0,"person_id":null}`,
		`{"type":"speaker_assigned","speaker_id":-3}`,
		`{"type":"speaker_assigned","speaker_id":1e9}`,
		`{"type":"speaker_assigned","person_id":"p"}`,
		`{"speaker_id":"1"}`,
		`[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := pipeline.ParseSpeakerAssigned(b)
		if !ok {
			td.Cmp(t, a.SegmentIDs, td.Nil())
			return
		}
		td.Cmp(t, a.SpeakerID, td.Between(0, 1023))
		td.Cmp(t, len(a.PersonID), td.Lte(256))
		td.Cmp(t, len(a.SegmentIDs), td.Lte(4096))
	})
}
