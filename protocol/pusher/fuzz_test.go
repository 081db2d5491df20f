package pusher_test

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"earshot/protocol/pusher"
)

// FuzzParse: Parse never panics, fails only on frames shorter than the
// header, and AppendFrame rebuilds the frame from what it returns.
func FuzzParse(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{100, 0, 0, 0})
	f.Add(pusher.AppendFrame(nil, pusher.KindConversation, []byte("conv-1")))
	f.Fuzz(func(t *testing.T, frame []byte) {
		kind, payload, err := pusher.Parse(frame)
		if err != nil {
			if !errors.Is(err, pusher.ErrShort) || len(frame) >= pusher.HeaderBytes {
				t.Fatalf("Parse(%x): %v", frame, err)
			}
			return
		}
		if got := pusher.AppendFrame(nil, kind, payload); !bytes.Equal(got, frame) {
			t.Fatalf("AppendFrame(Parse(%x)) = %x", frame, got)
		}
	})
}

// FuzzParseAudio: ParseAudio never panics, accepts exactly the payloads
// with a finite positive time and whole samples, and AppendAudio
// rebuilds them.
func FuzzParseAudio(f *testing.F) {
	f.Add([]byte{})
	f.Add(pusher.AppendAudio(nil, 1700000000.5, []byte{1, 2})[pusher.HeaderBytes:])
	f.Add(pusher.AppendAudio(nil, math.NaN(), nil)[pusher.HeaderBytes:])
	f.Fuzz(func(t *testing.T, payload []byte) {
		start, pcm, err := pusher.ParseAudio(payload)
		if err != nil {
			if !errors.Is(err, pusher.ErrShort) && !errors.Is(err, pusher.ErrBadAudio) {
				t.Fatalf("ParseAudio(%x): unexpected error %v", payload, err)
			}
			return
		}
		if math.IsNaN(start) || math.IsInf(start, 0) || start <= 0 || len(pcm)%2 != 0 {
			t.Fatalf("ParseAudio(%x) accepted start %v, %d bytes of PCM", payload, start, len(pcm))
		}
		frame := pusher.AppendAudio(nil, start, pcm)
		if !bytes.Equal(frame[pusher.HeaderBytes:], payload) {
			t.Fatalf("AppendAudio(ParseAudio(%x)) = %x", payload, frame)
		}
	})
}
