package ingest_test

import (
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/libopus"
	"earshot/stages/ingest"
)

// minNativeSNRdB bounds how far ingest's Opus decode at 16 kHz (pion/opus)
// may be from libopus decoding the same packets natively at 16 kHz (no
// resampler between them, unlike opusdec's): thresholds a few dB under
// what was measured: 87.7 and 87.4 dB (CELT 10 and 20 ms), 49.9 dB (SILK),
// 53.7 dB (hybrid).
var minNativeSNRdB = map[string]float64{"celt": 80, "silk": 45, "hybrid": 50}

// TestOpusMatchesLibopusAtTheSessionRate decodes every 16 kHz Opus fixture
// with ingest and with libopus at 16 kHz (build tag libcodecs) and
// compares them sample by sample.
func TestOpusMatchesLibopusAtTheSessionRate(t *testing.T) {
	if !libopus.Available {
		t.Skip("libopus is in builds with -tags libcodecs")
	}
	for _, fx := range loadManifest(t) {
		if !strings.HasPrefix(fx.Codec, "opus") || !strings.HasSuffix(fx.Name, "-fox") {
			continue
		}
		t.Run(fx.Name, func(t *testing.T) {
			pkts := loadPackets(t, fx.Pkt)
			audio, _ := decodeAll(t, ingest.Codec(fx.Codec), fx.SampleRate, pkts)
			got := samplesOf(audio)
			d, err := libopus.NewDecoder(fx.SampleRate)
			td.Require(t).CmpNoError(err)
			defer d.Close()
			var ref []int16
			buf := make([]int16, fx.SampleRate/1000*120)
			for _, p := range pkts {
				n, err := d.Decode(p, buf)
				td.Require(t).CmpNoError(err)
				ref = append(ref, buf[:n]...)
			}
			td.Cmp(t, len(got), len(ref), "the same duration")
			snr, maxDiff := compare(ref, got)
			mode := strings.Split(fx.Name, "-")[1]
			mode = strings.TrimRight(mode, "0123456789")
			t.Logf("%s: pion vs libopus at %d Hz: SNR %.1f dB, max diff %d", fx.Name, fx.SampleRate, snr, maxDiff)
			td.Cmp(t, snr, td.Gte(minNativeSNRdB[mode]))
		})
	}
}
