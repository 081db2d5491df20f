package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/ingest"
	"earshot/stages/stagestest"
)

func runIngest(t *testing.T, frames ...[]byte) []stages.Audio {
	t.Helper()
	in := make(chan []byte, len(frames))
	out := make(chan stages.Audio, len(frames)+1)
	for _, f := range frames {
		in <- f
	}
	close(in)
	g := ingest.New(ingest.Config{Codec: ingest.CodecPCM16, SampleRateHz: 16000}, nil)
	td.CmpNoError(t, g.Run(context.Background(), in, out))
	var got []stages.Audio
	for a := range out {
		got = append(got, a)
	}
	return got
}

func TestIngestCarriesHalfSample(t *testing.T) {
	whole := stagestest.PCM(0, 6) // 12 bytes
	got := runIngest(t, whole[:5], whole[5:12])
	td.Cmp(t, got, []stages.Audio{
		{PCM: whole[:4], Start: 0, SampleRateHz: 16000, Pooled: true},
		{PCM: whole[4:12], Start: 2, SampleRateHz: 16000, Pooled: true},
	})
	var joined []byte
	for _, a := range got {
		joined = append(joined, a.PCM...)
	}
	td.Cmp(t, joined, whole, "no byte lost or reordered")
}

func TestIngestIgnoresTinyFramesAndKeepsTheClock(t *testing.T) {
	got := runIngest(t, stagestest.PCM(0, 4), []byte{0x8A, 0x00}, []byte{1}, stagestest.PCM(4, 4))
	td.Cmp(t, got, []stages.Audio{
		{PCM: stagestest.PCM(0, 4), Start: 0, SampleRateHz: 16000, Pooled: true},
		{PCM: stagestest.PCM(4, 4), Start: 4, SampleRateHz: 16000, Pooled: true},
	})
}

func TestIngestHardStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := make(chan stages.Audio)
	err := ingest.New(ingest.Config{Codec: ingest.CodecPCM8, SampleRateHz: 8000}, nil).Run(ctx, make(chan []byte), out)
	td.CmpTrue(t, errors.Is(err, context.Canceled))
	_, open := <-out
	td.CmpFalse(t, open)
}

// FuzzIngest checks that whatever frames arrive, every byte of every frame
// over two bytes comes out once, in order, as whole samples on a gapless
// clock (a trailing half sample excepted).
func FuzzIngest(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5}, uint8(3))
	f.Add([]byte{0x8A, 0x00}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		var frames [][]byte
		var want []byte
		for len(data) > 0 {
			n := min(int(cut%17)+1, len(data))
			frames = append(frames, data[:n:n])
			if n >= ingest.MinAudioFrameBytes {
				want = append(want, data[:n]...)
			}
			data = data[n:]
		}
		got := runIngest(t, frames...)
		var joined []byte
		next := int64(0)
		for _, a := range got {
			if len(a.PCM)%2 != 0 || a.Start != next {
				t.Fatalf("bad audio: %d bytes at %d, want start %d", len(a.PCM), a.Start, next)
			}
			next = a.End()
			joined = append(joined, a.PCM...)
		}
		want = want[:len(want)&^1]
		if !bytes.Equal(joined, want) {
			t.Fatalf("got %x, want %x", joined, want)
		}
	})
}
