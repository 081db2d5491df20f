package ingest_test

import (
	"bytes"
	"context"
	"testing"

	"earshot/stages"
	"earshot/stages/ingest"
)

// FuzzDemux cuts data into frames (sizes gives each frame's length, the
// rest of data is the last frame) and splits them into 1 to 4 channels:
// nothing panics, every payload delivered is its frame minus the first
// byte, on the channel that byte names, in order and in the frame's own
// buffer, and every frame is either delivered or skipped.
func FuzzDemux(f *testing.F) {
	f.Add(uint8(1), []byte{1, 10, 11, 2, 20, 21, 1, 12}, []byte{3, 3})
	f.Add(uint8(2), []byte{0, 1, 1, 2, 2, 2, 3, 3, 3}, []byte{0, 2, 1, 3, 3})
	f.Add(uint8(3), []byte{4, 1, 2, 3, 0x8A, 0x00}, []byte{4, 2})
	f.Add(uint8(0), []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, channels uint8, data, sizes []byte) {
		n := int(channels)%4 + 1
		var frames [][]byte
		for _, s := range sizes {
			k := min(int(s)%64, len(data))
			frames = append(frames, data[:k:k])
			data = data[k:]
		}
		frames = append(frames, data)
		// What each channel must get, worked out before Run shifts the
		// payloads over the id bytes.
		want := make([][][]byte, n)
		wantSkipped := 0
		for i, fr := range frames {
			if len(fr) < 2 || fr[0] == 0 || int(fr[0]) > n {
				wantSkipped++
				continue
			}
			want[fr[0]-1] = append(want[fr[0]-1], bytes.Clone(fr[1:]))
			if i%2 == 1 && len(fr) <= stages.FrameBytes { // some pooled buffers
				frames[i] = append(stages.NewFrame(), fr...)
			}
		}
		caps := make([][]int, n) // the capacity each payload must keep
		for _, fr := range frames {
			if len(fr) >= 2 && fr[0] != 0 && int(fr[0]) <= n {
				caps[fr[0]-1] = append(caps[fr[0]-1], cap(fr))
			}
		}

		in := make(chan []byte, len(frames))
		for _, fr := range frames {
			in <- fr
		}
		close(in)
		send, recv := demuxOuts(n, len(frames))
		d := ingest.NewDemux(n, nil)
		if err := d.Run(context.Background(), in, send); err != nil {
			t.Fatalf("run: %v", err)
		}

		delivered := 0
		for ch := range n {
			var got [][]byte
			for p := range recv[ch] {
				got = append(got, p)
			}
			delivered += len(got)
			if len(got) != len(want[ch]) {
				t.Fatalf("channel %d: got %d payloads, want %d", ch+1, len(got), len(want[ch]))
			}
			for i, p := range got {
				if !bytes.Equal(p, want[ch][i]) {
					t.Fatalf("channel %d payload %d: got %x, want %x", ch+1, i, p, want[ch][i])
				}
				if cap(p) != caps[ch][i] {
					t.Fatalf("channel %d payload %d: cap %d, want %d (the frame's own buffer)", ch+1, i, cap(p), caps[ch][i])
				}
			}
		}
		if d.Skipped() != int64(wantSkipped) || int64(delivered)+d.Skipped() != int64(len(frames)) {
			t.Fatalf("delivered %d + skipped %d, want %d skipped of %d frames", delivered, d.Skipped(), wantSkipped, len(frames))
		}
	})
}
