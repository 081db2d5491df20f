package record_test

import (
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/protocol/pusher"
	"earshot/record"
)

// fuzzFrames joins frames into a fuzz input: each a 2-byte little-endian
// length, then the frame.
func fuzzFrames(frames ...[]byte) []byte {
	var b []byte
	for _, f := range frames {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	return b
}

// splitFrames is fuzzFrames' inverse; a length beyond the input takes
// the rest.
func splitFrames(b []byte) [][]byte {
	var frames [][]byte
	for len(b) >= 2 {
		n := min(int(binary.LittleEndian.Uint16(b)), len(b)-2)
		frames = append(frames, b[2:2+n])
		b = b[2+n:]
	}
	return frames
}

// FuzzFrames feeds arbitrary frames to a connection's frame handling (no
// socket), then finishes every conversation it staged, and checks that
// nothing panicked and that every conversation on disk is consistent:
// the WAV holds meta's samples, the JSONL files hold JSON objects, meta
// counts the segment lines, nothing is left staged.
func FuzzFrames(f *testing.F) {
	conv := func(id string) []byte { return pusher.AppendFrame(nil, pusher.KindConversation, []byte(id)) }
	seg := func(id, s string) []byte {
		return pusher.AppendFrame(nil, pusher.KindSegments, []byte(`{"memory_id":"`+id+`","segments":[`+s+`]}`))
	}
	proc := func(id string) []byte {
		return pusher.AppendFrame(nil, pusher.KindProcess, []byte(`{"conversation_id":"`+id+`","language":"en"}`))
	}
	audio := func(t float64, n int) []byte { return pusher.AppendAudio(nil, t, pcm(ramp(1, n))) }
	f.Add(fuzzFrames(conv("a"), audio(t0, 100), audio(t0+0.5, 50), audio(t0+0.001, 100),
		seg("a", `{"id":"s1"}`), seg("", `{"id":"s2","text":"x"}`), proc("a")))
	f.Add(fuzzFrames(conv("a"), audio(t0, 10), conv("b"), audio(t0, 10), seg("a", `{"id":1}`),
		pusher.AppendFrame(nil, pusher.KindSpeakerSamples, []byte(`{"conversation_id":"b","person_id":"p"}`)),
		proc("b"), audio(t0+1, 10), proc("b"), conv("../x"), audio(t0, 2)))
	f.Add(fuzzFrames(pusher.AppendFrame(nil, pusher.KindHeartbeat, nil), []byte{1}, audio(5e-324, 3),
		audio(1e308, 2), conv("c"), audio(1e308, 2), audio(1, 2), audio(1e300, 4), seg("c", `{}`)))
	f.Fuzz(func(t *testing.T, in []byte) {
		dir := t.TempDir()
		rec, err := record.New(record.Config{Dir: dir, MaxGapSec: 1},
			record.Deps{Logger: slog.New(slog.DiscardHandler)})
		td.Require(t).CmpNoError(err)
		defer rec.Close()
		s := rec.NewSession("u", 16000)
		for _, frame := range splitFrames(in) {
			if reply := s.Handle(true, frame); reply != nil {
				kind, payload, err := pusher.Parse(reply)
				td.Require(t).CmpNoError(err)
				td.Require(t).Cmp(kind, pusher.KindResult)
				td.Require(t).True(json.Valid(payload))
			}
		}
		entries, err := os.ReadDir(filepath.Join(dir, ".staging"))
		td.Require(t).CmpNoError(err)
		for _, e := range entries {
			reply := s.Handle(true, proc(e.Name()))
			td.Require(t).Cmp(reply, pusher.AppendFrame(nil, pusher.KindResult,
				[]byte(`{"conversation_id":"`+e.Name()+`","success":true}`)))
		}
		s.Close()
		td.Cmp(t, rec.InUse(), 0)
		entries, err = os.ReadDir(filepath.Join(dir, ".staging"))
		td.Require(t).CmpNoError(err)
		td.CmpEmpty(t, entries)
		ids, err := record.Finished(dir)
		td.Require(t).CmpNoError(err)
		for _, id := range ids {
			c, err := record.ReadConversation(dir, id)
			td.Require(t).CmpNoError(err, id)
			st, err := os.Stat(filepath.Join(dir, id, "audio.wav"))
			td.Require(t).CmpNoError(err)
			td.Cmp(t, st.Size(), 44+2*c.Meta.Samples)
			td.Cmp(t, int64(len(c.Samples)), c.Meta.Samples)
			td.Cmp(t, c.Meta.SegmentLines, len(c.Segments))
			td.Cmp(t, c.Meta.GapSamples, td.Between(int64(0), c.Meta.Samples))
			for _, line := range append(c.Segments, c.Speakers...) {
				var obj map[string]any
				td.CmpNoError(t, json.Unmarshal(line, &obj), "%s", line)
			}
		}
	})
}
