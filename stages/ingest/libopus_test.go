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

// TestLibopusDecoderOption: with Opus: OpusLibopus, ingest's output is
// libopus's own, and a packet libopus refuses is concealed by its
// packet-loss concealment for as long as the last good packet.
func TestLibopusDecoderOption(t *testing.T) {
	if err := ingest.CheckOpusDecoder(ingest.OpusLibopus); err != nil {
		td.CmpErrorIs(t, err, ingest.ErrNoOpusDecoder)
		t.Skip(err)
	}
	pkts := loadPackets(t, "opus-celt20-fox.pkt")
	cfg := ingest.Config{Codec: ingest.CodecOpusFS320, SampleRateHz: 16000, Opus: ingest.OpusLibopus}
	audio, st := decodeWith(t, cfg, pkts)
	td.Cmp(t, st.DecodeErrors, int64(0))
	d, err := libopus.NewDecoder(16000)
	td.Require(t).CmpNoError(err)
	defer d.Close()
	var want []int16
	buf := make([]int16, 1920)
	for _, p := range pkts {
		n, err := d.Decode(p, buf)
		td.Require(t).CmpNoError(err)
		want = append(want, buf[:n]...)
	}
	td.Cmp(t, samplesOf(audio), want, "libopus's own samples")

	damaged := append([][]byte{}, pkts[:20]...)
	damaged[10] = []byte{pkts[10][0] | 0x03, 0xff, 0xff} // code 3 claiming 63 frames
	audio, st = decodeWith(t, cfg, damaged)
	td.Cmp(t, st.DecodeErrors, int64(1))
	td.Cmp(t, st.ConcealedSamples, int64(320), "one 20 ms packet concealed")
	td.Cmp(t, len(samplesOf(audio)), 20*320, "the clock keeps its place")
}

func TestCheckOpusDecoder(t *testing.T) {
	td.CmpNoError(t, ingest.CheckOpusDecoder(""))
	td.CmpNoError(t, ingest.CheckOpusDecoder(ingest.OpusPion))
	td.CmpErrorIs(t, ingest.CheckOpusDecoder("ffmpeg"), ingest.ErrNoOpusDecoder)
	td.CmpNoError(t, ingest.CheckOpusDecoder(ingest.OpusAuto), "auto is in every build")
	if !libopus.Available {
		td.CmpErrorIs(t, ingest.CheckOpusDecoder(ingest.OpusLibopus), ingest.ErrNoOpusDecoder)
	}
}

func TestOpusDecoderResolve(t *testing.T) {
	want := ingest.OpusPion
	if libopus.Available {
		want = ingest.OpusLibopus
	}
	td.Cmp(t, ingest.OpusAuto.Resolve(), want, "auto: libopus where the build has it")
	td.Cmp(t, ingest.OpusDecoder("").Resolve(), ingest.OpusPion, "the zero value stays pion")
	td.Cmp(t, ingest.OpusPion.Resolve(), ingest.OpusPion)
	td.Cmp(t, ingest.OpusLibopus.Resolve(), ingest.OpusLibopus)
	td.Cmp(t, ingest.OpusDecoder("ffmpeg").Resolve(), ingest.OpusDecoder("ffmpeg"))
}
