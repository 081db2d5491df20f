package client_test

import (
	"os"
	"path/filepath"
	"testing"

	"earshot/client"
)

func readFile(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// FuzzParseWAV checks that ParseWAV never panics, and that whatever it
// accepts is consistent: whole frames, a supported format, and Mono,
// Resample and PCM16 of sane lengths and values.
func FuzzParseWAV(f *testing.F) {
	f.Add(riff(fmtChunk(1, 1, 16000, 16), chunk{"data", pcm16(1, -2, 3)}))
	f.Add(riff(fmtChunk(1, 2, 8000, 8), chunk{"data", []byte{1, 2, 3, 4, 5}}))
	f.Add(riff(fmtChunk(1, 1, 48000, 24), chunk{"data", []byte{1, 2, 3, 4, 5, 6}}))
	f.Add(riff(fmtChunk(3, 1, 44100, 32), chunk{"data", []byte{0, 0, 0xc0, 0x7f}}))
	f.Add(riff(fmtChunk(3, 2, 22050, 64), chunk{"data", make([]byte, 16)}))
	f.Add(riff(extensibleFmt(1, 2, 16000, 16), chunk{"LIST", []byte("x")}, chunk{"data", pcm16(5, 6)}))
	f.Add(riff(chunk{"data", nil}))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEfmt \xff\xff\xff\xff"))
	b := []byte(readFile(f, filepath.Join("..", "fixtures", "speech-synth", "call-8k.wav")))
	f.Add(b[:200])
	f.Fuzz(func(t *testing.T, in []byte) {
		w, err := client.ParseWAV(in)
		if err != nil {
			if w != nil {
				t.Fatalf("a WAV with an error: %v", err)
			}
			return
		}
		frame := w.Channels * w.BitsPerSample / 8
		if frame == 0 || len(w.Data)%frame != 0 {
			t.Fatalf("data of %d bytes is not whole %d-byte frames", len(w.Data), frame)
		}
		if w.Format != client.FormatPCM && w.Format != client.FormatFloat {
			t.Fatalf("format %d accepted", w.Format)
		}
		if w.SampleRate < 1 || w.Channels < 1 {
			t.Fatalf("rate %d, channels %d accepted", w.SampleRate, w.Channels)
		}
		mono := w.Mono()
		if len(mono) != w.Frames() {
			t.Fatalf("mono has %d samples for %d frames", len(mono), w.Frames())
		}
		for i, v := range mono {
			if !(v >= -1 && v <= 1) {
				t.Fatalf("sample %d is %v", i, v)
			}
		}
		// Resample to a rate that keeps the output small.
		to := 8000
		if int64(len(mono))*int64(to)/int64(w.SampleRate) > 1<<16 {
			to = w.SampleRate
		}
		out := client.Resample(mono, w.SampleRate, to)
		if want := int(int64(len(mono)) * int64(to) / int64(w.SampleRate)); len(out) != want {
			t.Fatalf("resampled to %d samples, want %d", len(out), want)
		}
		pcm := client.PCM16(out)
		if len(pcm) != 2*len(out) {
			t.Fatalf("pcm16 of %d bytes for %d samples", len(pcm), len(out))
		}
	})
}
