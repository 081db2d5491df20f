//go:build libcodecs && cgo

package libopus_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/libopus"
)

// encodeAll encodes pcm in frames of frame samples and returns the
// packets.
func encodeAll(t *testing.T, enc *libopus.Encoder, pcm []int16, frame int) [][]byte {
	t.Helper()
	var pkts [][]byte
	buf := make([]byte, 4000)
	for i := 0; i+frame <= len(pcm); i += frame {
		n, err := enc.Encode(pcm[i:i+frame], buf)
		td.Require(t).CmpNoError(err, "frame %d", i/frame)
		pkts = append(pkts, append([]byte(nil), buf[:n]...))
	}
	return pkts
}

// decodeAll decodes pkts and returns the PCM, concatenated.
func decodeAll(t *testing.T, dec *libopus.Decoder, pkts [][]byte) []int16 {
	t.Helper()
	var out []int16
	buf := make([]int16, 5760)
	for i, p := range pkts {
		n, err := dec.Decode(p, buf)
		td.Require(t).CmpNoError(err, "packet %d", i)
		out = append(out, buf[:n]...)
	}
	return out
}

// tocConfig is the configuration number (0..31) in a packet's TOC byte:
// 0-11 SILK, 12-15 hybrid, 16-31 CELT.
func tocConfig(pkt []byte) int { return int(pkt[0] >> 3) }
