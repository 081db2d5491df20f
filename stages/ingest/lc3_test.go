package ingest_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages/ingest"
)

// TestLC3Framings: codec lc3 takes one LC3 frame per binary frame, and
// lc3_fs1030 any number of whole 30-byte frames per binary frame; both
// decode the reference encoder's frames to the same samples. A trailing
// part of a frame is concealed and counted, keeping the clock.
func TestLC3Framings(t *testing.T) {
	if info, _ := ingest.Lookup(ingest.CodecLC3); !info.Available {
		t.Skipf("lc3 needs %s", info.Needs)
	}
	frames := loadPackets(t, "lc3-fs1030-fox.pkt")
	one, st := decodeAll(t, ingest.CodecLC3, 16000, frames)
	td.Cmp(t, st.DecodeErrors, int64(0))
	want := samplesOf(one)
	td.Cmp(t, len(want), 160*len(frames), "10 ms a frame")

	var joined [][]byte // three frames a message
	for i := 0; i < len(frames); i += 3 {
		var m []byte
		for _, f := range frames[i:min(i+3, len(frames))] {
			m = append(m, f...)
		}
		joined = append(joined, m)
	}
	three, st := decodeAll(t, ingest.CodecLC3FS1030, 16000, joined)
	td.Cmp(t, st.DecodeErrors, int64(0))
	td.Cmp(t, samplesOf(three), want, "the same samples, however the frames are packed")

	cut := append(append([]byte{}, frames[0]...), frames[1][:12]...) // a frame and 12 bytes of the next
	got, st := decodeAll(t, ingest.CodecLC3FS1030, 16000, [][]byte{cut, frames[2]})
	td.Cmp(t, st.DecodeErrors, int64(1), "the partial frame counted")
	td.Cmp(t, st.ConcealedSamples, int64(160))
	td.Cmp(t, len(samplesOf(got)), 3*160, "and concealed: the clock keeps its place")
}
