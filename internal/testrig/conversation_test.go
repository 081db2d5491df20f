package testrig_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/testrig"
)

// TestConversation16k lays clips out between the pauses, cycling through
// them, with deterministic low noise everywhere.
func TestConversation16k(t *testing.T) {
	loud := make([]byte, 2*1600) // 100 ms at 10000
	for i := 0; i < len(loud); i += 2 {
		binary.LittleEndian.PutUint16(loud[i:], 10000)
	}
	clips := [][]byte{loud, loud[:1601], loud} // an odd byte is ignored
	j := testrig.Conversation16k(clips, []int{500, 1000}, 30, 7)

	// Pauses: 500 (lead), 1000, 500, 1000 (tail) ms.
	td.Cmp(t, j.Clips, []testrig.Span{{8000, 9600}, {25600, 26400}, {34400, 36000}})
	td.Cmp(t, len(j.PCM), 2*52000)
	td.Cmp(t, j.Seconds(), 3.25)
	td.Cmp(t, j.SilenceFraction(), td.N(3.0/3.25, 1e-12))

	sample := func(i int) float64 { return float64(int16(binary.LittleEndian.Uint16(j.PCM[2*i:]))) }
	var sum float64
	for i := range 8000 {
		sum += sample(i) * sample(i)
	}
	td.Cmp(t, math.Sqrt(sum/8000), td.Between(27.0, 33.0), "the lead pause is noise at about noiseAmp RMS")
	td.Cmp(t, sample(8000), td.Between(10000-200.0, 10000+200.0), "noise over the clips too")

	td.Cmp(t, testrig.Conversation16k(clips, []int{500, 1000}, 30, 7).PCM, j.PCM, "deterministic")
	td.Cmp(t, testrig.Conversation16k(clips, []int{500, 1000}, 30, 8).PCM, td.Not(j.PCM), "seeded")

	td.Cmp(t, testrig.Conversation16k(nil, nil, 0, 0), testrig.Joined{PCM: []byte{}, Clips: []testrig.Span{}})
	td.Cmp(t, testrig.Joined{}.SilenceFraction(), 0.0)
}
