package ingest_test

import (
	"context"
	"testing"

	"earshot/stages"
	"earshot/stages/ingest"
)

// decodeAll runs an ingest stage of codec at rateHz over frames and
// returns what it sent and its stats.
func decodeAll(tb testing.TB, codec ingest.Codec, rateHz int, frames [][]byte) ([]stages.Audio, ingest.Stats) {
	tb.Helper()
	return decodeWith(tb, ingest.Config{Codec: codec, SampleRateHz: rateHz}, frames)
}

// decodeWith runs an ingest stage of cfg over frames.
func decodeWith(tb testing.TB, cfg ingest.Config, frames [][]byte) ([]stages.Audio, ingest.Stats) {
	tb.Helper()
	in := make(chan []byte, len(frames))
	out := make(chan stages.Audio, 4*len(frames)+1)
	for _, f := range frames {
		in <- f
	}
	close(in)
	g := ingest.New(cfg, nil)
	if err := g.Run(context.Background(), in, out); err != nil {
		tb.Fatalf("%s: run: %v", cfg.Codec, err)
	}
	var got []stages.Audio
	for a := range out {
		got = append(got, a)
	}
	return got, g.Stats()
}

// FuzzDecoders feeds arbitrary frames to every codec this build decodes:
// nothing panics, the session never ends, the audio comes out as whole
// samples on a gapless clock that Stats agrees with, and every frame of
// audio bytes either decodes or is counted as a decode error.
func FuzzDecoders(f *testing.F) {
	f.Add(uint8(4), []byte{0xf8, 0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(12))         // opus, CELT TOC
	f.Add(uint8(5), []byte{0x08, 0x8b, 0x10, 0x00, 0x11, 0x22, 0x33, 0x44}, uint8(7))       // opus_fs320, SILK TOC
	f.Add(uint8(7), make([]byte, 61), uint8(30))                                            // lc3_fs1030
	f.Add(uint8(8), []byte{0xff, 0xf1, 0x60, 0x40, 0x05, 0x1f, 0xfc, 0x21, 0x00}, uint8(9)) // aac, ADTS header
	f.Add(uint8(2), []byte{0, 0x7f, 0x80, 0xff}, uint8(2))                                  // mulaw8
	f.Add(uint8(130), []byte{0xf8, 0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(12))       // opus, CELT TOC, libopus
	codecs := ingest.Codecs()
	f.Fuzz(func(t *testing.T, which uint8, data []byte, cut uint8) {
		info := codecs[int(which)%len(codecs)]
		if !info.Available {
			t.Skip(info.Codec, " needs ", info.Needs)
		}
		rate := 16000
		cfg := ingest.Config{Codec: info.Codec, SampleRateHz: rate}
		if which >= 128 && ingest.CheckOpusDecoder(ingest.OpusLibopus) == nil {
			cfg.Opus = ingest.OpusLibopus // for opus and opus_fs320
		}
		var frames [][]byte
		audioFrames := 0
		for len(data) > 0 {
			n := min(int(cut)%200+1, len(data))
			frames = append(frames, data[:n:n])
			if n >= ingest.MinAudioFrameBytes {
				audioFrames++
			}
			data = data[n:]
		}
		got, st := decodeWith(t, cfg, frames)
		next := int64(0)
		for _, a := range got {
			if len(a.PCM) == 0 || len(a.PCM)%2 != 0 || a.Start != next || a.SampleRateHz != rate {
				t.Fatalf("%s: bad audio: %d bytes at %d (rate %d), want start %d", info.Codec, len(a.PCM), a.Start, a.SampleRateHz, next)
			}
			next = a.End()
		}
		if st.Samples != next {
			t.Fatalf("%s: stats say %d samples, the clock %d", info.Codec, st.Samples, next)
		}
		if st.Packets != int64(audioFrames) {
			t.Fatalf("%s: %d packets counted, %d sent", info.Codec, st.Packets, audioFrames)
		}
		if info.PacketMs > 0 && info.Codec != ingest.CodecAAC && st.DecodeErrors == 0 && audioFrames > 0 && next == 0 {
			t.Fatalf("%s: %d frames gave no audio and no decode error", info.Codec, audioFrames)
		}
	})
}
