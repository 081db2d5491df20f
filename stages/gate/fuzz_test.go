package gate_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"earshot/stages"
	"earshot/stages/gate"
	"earshot/stages/stagestest"
)

// FuzzGateFrames drives an active gate with arbitrary frame sizes,
// loudness and timings, and checks its invariants: what it sends is the
// captured audio at its own Start, in order, never twice; every sample is
// sent or held; MarkSilence audio only follows speech or silence, right
// after it; a MarkHold carries nothing, comes only after speech or
// silence, and is where the sent audio stops (the next audio sent starts
// after a gap, as a speech onset's pre-roll or speech).
//
// Each byte of script is one frame: its low 7 bits size it (1 to 1270
// samples), its top bit makes it loud. The first three bytes, when
// present, pick the pre-roll, the hangover and the detector's window.
func FuzzGateFrames(f *testing.F) {
	f.Add([]byte{3, 7, 3, 10, 10, 0x8a, 0x8a, 0x8a, 10, 10, 10, 10, 0x81, 1, 1, 1, 100, 100})
	f.Add([]byte{0, 0, 0, 0x80, 0, 0x80, 0})
	f.Add([]byte{255, 255, 255, 0xff, 0x7f, 0x7f, 0x7f, 0xff, 0x7f})
	f.Add([]byte{1, 20, 40, 0x85, 5, 5, 5, 5, 0x85, 5, 5, 5, 5, 5, 5, 5, 5, 5})
	f.Fuzz(func(t *testing.T, script []byte) {
		cfg := gate.Config{Mode: gate.Active}
		window := 64
		if len(script) >= 3 {
			delay := func(b byte) int { return int(b%16)*50 - 50 } // -50 (none) to 700 ms
			cfg.PrerollMs, cfg.HangoverMs = delay(script[0]), delay(script[1])
			window = 32 * (1 + int(script[2]%16)) // 2 to 32 ms
			script = script[3:]
		}
		var src []byte
		var sizes []int
		for i, b := range script {
			n := 1 + int(b&0x7f)*10
			for k := range n {
				v := (i*131 + k) % 1000
				if b&0x80 != 0 {
					v += 8000
				}
				src = binary.LittleEndian.AppendUint16(src, uint16(v))
			}
			sizes = append(sizes, n)
		}
		var frames []stages.Audio
		for at, i := 0, 0; i < len(sizes); i++ {
			frames = append(frames, stages.Audio{
				PCM: append([]byte(nil), src[2*at:2*(at+sizes[i])]...), Start: int64(at), SampleRateHz: rate,
			})
			at += sizes[i]
		}
		r := newGateRig(cfg, rate, (&stagestest.Detectors{Window: window}).New)
		got := r.run(t, frames)

		next := int64(0) // no audio may be sent before this index
		prev := stages.MarkHold
		for _, a := range got {
			switch a.Mark {
			case stages.MarkHold:
				if len(a.PCM) != 0 || prev == stages.MarkHold || a.Start != next {
					t.Fatalf("bad MarkHold at %d (pcm %d bytes, after %v ending at %d)", a.Start, len(a.PCM), prev, next)
				}
				prev = a.Mark
				continue
			case stages.MarkSilence:
				if prev == stages.MarkHold || a.Start != next {
					t.Fatalf("MarkSilence at %d not right after speech or silence", a.Start)
				}
			case stages.MarkSpeech:
			default:
				t.Fatalf("an active gate sent %v audio at %d", a.Mark, a.Start)
			}
			prev = a.Mark
			if a.Samples() == 0 || a.Start < next || !bytes.Equal(a.PCM, src[2*a.Start:2*a.End()]) {
				t.Fatalf("audio %d..%d: empty, out of order or not the captured audio", a.Start, a.End())
			}
			next = a.End()
		}
		st := r.g.Stats()
		if st.Captured != int64(len(src)/2) || st.Captured != st.Sent+st.Held {
			t.Fatalf("captured %d (of %d), sent %d, held %d", st.Captured, len(src)/2, st.Sent, st.Held)
		}
	})
}
