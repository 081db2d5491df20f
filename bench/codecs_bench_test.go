package bench_test

// Codec benchmarks (bench/README.md, "Codecs"): Opus decoding per packet
// with the gateway's decoder (pion/opus, pure Go) beside libopus through
// cgo (build tag libcodecs), on the same packets in the same run, and the
// ingest stage decoding every codec's device-shaped packets.

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pion/opus"

	"earshot/internal/libopus"
	"earshot/internal/packets"
	"earshot/stages"
	"earshot/stages/ingest"
)

// opusVariants are the reference encoder's packets of the demo
// conversation (fixtures/codecs): what an Omi device sends for opus
// (CELT, 10 ms) and opus_fs320 (CELT, 20 ms), and SILK and hybrid 20 ms
// packets as other apps send them.
var opusVariants = []struct{ name, pkt string }{
	{"celt20", "opus-celt20-demo.pkt"},
	{"celt10", "opus-celt10-demo.pkt"},
	{"silk20", "opus-silk20-demo.pkt"},
	{"hybrid20", "opus-hybrid20-demo.pkt"},
}

func loadCodecPackets(b *testing.B, name string) [][]byte {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "fixtures", "codecs", name))
	if err != nil {
		b.Fatal(err)
	}
	pkts, err := packets.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	return pkts
}

// BenchmarkOpusDecode decodes one packet per op at 16 kHz, cycling
// through the conversation's packets: pion is the gateway's decoder,
// libopus the reference (skipped without the libcodecs tag).
func BenchmarkOpusDecode(b *testing.B) {
	for _, v := range opusVariants {
		pkts := loadCodecPackets(b, v.pkt)
		pcm := make([]int16, 120*48)
		b.Run(v.name+"/pion", func(b *testing.B) {
			d, err := opus.NewDecoderWithOutput(16000, 1)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := d.DecodeToInt16(pkts[i%len(pkts)], pcm); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(v.name+"/libopus", func(b *testing.B) {
			d, err := libopus.NewDecoder(16000)
			if err != nil {
				b.Skip(err)
			}
			defer d.Close()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := d.Decode(pkts[i%len(pkts)], pcm); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIngestCodec runs the ingest stage on device-shaped packets of
// the demo conversation, one op per packet (channels included, as in
// BenchmarkIngest); µs/audio-s is its cost per second of audio.
func BenchmarkIngestCodec(b *testing.B) {
	for _, bc := range []struct {
		codec    ingest.Codec
		opus     ingest.OpusDecoder
		pkt      string
		packetMs float64
	}{
		{ingest.CodecOpusFS320, ingest.OpusPion, "opus-celt20-demo.pkt", 20},
		{ingest.CodecOpusFS320, ingest.OpusLibopus, "opus-celt20-demo.pkt", 20},
		{ingest.CodecOpus, ingest.OpusPion, "opus-celt10-demo.pkt", 10},
		{ingest.CodecOpus, ingest.OpusLibopus, "opus-celt10-demo.pkt", 10},
		{ingest.CodecMulaw16, "", "mulaw16-fox.pkt", 10},
		{ingest.CodecLC3FS1030, "", "lc3-fs1030-demo.pkt", 10},
		{ingest.CodecAAC, "", "aac-demo.pkt", 64},
	} {
		name := string(bc.codec)
		if bc.opus != "" {
			name += "/" + string(bc.opus)
		}
		b.Run(name, func(b *testing.B) {
			if info, _ := ingest.Lookup(bc.codec); !info.Available {
				b.Skipf("%s needs %s", bc.codec, info.Needs)
			}
			if err := ingest.CheckOpusDecoder(bc.opus); err != nil {
				b.Skip(err)
			}
			pkts := loadCodecPackets(b, bc.pkt)
			g := ingest.New(ingest.Config{Codec: bc.codec, SampleRateHz: 16000, Opus: bc.opus}, nil)
			in, out := make(chan []byte, benchDepth), make(chan stages.Audio, benchDepth)
			drained := make(chan struct{})
			go func() {
				defer close(drained)
				for a := range out {
					a.Release()
				}
			}()
			done := make(chan error, 1)
			go func() { done <- g.Run(context.Background(), in, out) }()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				in <- pkts[i%len(pkts)]
			}
			close(in)
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			<-drained
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)*(1000/bc.packetMs)/1e3, "µs/audio-s")
		})
	}
}
