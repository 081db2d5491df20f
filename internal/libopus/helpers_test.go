//go:build libcodecs && cgo

package libopus_test

import (
	"math"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/libopus"
)

// testSignal is n samples at rate Hz of three steady tones (300, 1100
// and 2500 Hz) and a linear chirp from 200 Hz to 5 kHz, peaking near
// -6 dBFS.
func testSignal(n, rate int) []int16 {
	out := make([]int16, n)
	dur := float64(n) / float64(rate)
	for i := range out {
		t := float64(i) / float64(rate)
		v := 0.15*math.Sin(2*math.Pi*300*t) +
			0.1*math.Sin(2*math.Pi*1100*t) +
			0.05*math.Sin(2*math.Pi*2500*t) +
			0.2*math.Sin(2*math.Pi*(200*t+(5000-200)/(2*dur)*t*t))
		out[i] = int16(math.Round(v * 32767))
	}
	return out
}

// alignedSNR finds the lag (0..maxLag samples) by which out best
// correlates with ref, and returns it with the SNR in dB of out against
// ref at that lag, over ref[skip:] (the codec's start-up excluded).
func alignedSNR(ref, out []int16, maxLag, skip int) (lag int, snr float64) {
	best := math.Inf(-1)
	for l := 0; l <= maxLag && l < len(out); l++ {
		var c float64
		for i := skip; i < len(ref) && i+l < len(out); i++ {
			c += float64(ref[i]) * float64(out[i+l])
		}
		if c > best {
			best, lag = c, l
		}
	}
	var sig, noise float64
	for i := skip; i < len(ref) && i+lag < len(out); i++ {
		d := float64(ref[i]) - float64(out[i+lag])
		sig += float64(ref[i]) * float64(ref[i])
		noise += d * d
	}
	return lag, 10 * math.Log10(sig/max(noise, 1))
}

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
