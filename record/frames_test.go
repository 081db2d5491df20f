package record_test

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/protocol/pusher"
	"earshot/record"
)

const t0 = 1_700_000_000.0 // a unix time in seconds

// wantWAVHeader is the header of a mono PCM16 WAV at rate with n samples.
func wantWAVHeader(rate, n int) []byte {
	h := []byte("RIFF")
	h = binary.LittleEndian.AppendUint32(h, uint32(36+2*n))
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 16)
	h = binary.LittleEndian.AppendUint16(h, 1)
	h = binary.LittleEndian.AppendUint16(h, 1)
	h = binary.LittleEndian.AppendUint32(h, uint32(rate))
	h = binary.LittleEndian.AppendUint32(h, uint32(2*rate))
	h = binary.LittleEndian.AppendUint16(h, 2)
	h = binary.LittleEndian.AppendUint16(h, 16)
	h = append(h, "data"...)
	return binary.LittleEndian.AppendUint32(h, uint32(2*n))
}

func TestFramesToFiles(t *testing.T) {
	r := newRig(t, "", record.Config{})
	c := r.dial(t, "user-1", 16000)
	c.send(pusher.AppendFrame(nil, pusher.KindHeartbeat, nil))
	c.conversation("conv-1")
	c.audio(t0, ramp(1, 1600))         // samples 0..1599
	c.audio(t0+0.1, ramp(1601, 1600))  // 1600..3199, contiguous
	c.audio(t0+0.3, ramp(5001, 800))   // 4800..5599: a gap of 1600 samples
	c.audio(t0+0.325, ramp(5401, 800)) // 5200..5999: 400 samples overlap
	c.audio(t0, ramp(1, 1600))         // all re-sent
	c.segments("conv-1", `{"id": "s1", "text": "hello",  "start": 0.0}`)
	c.segments("", `{"id":"s1","text":"hello world"}`, ` {"id":"s2","text":"bye"} `)
	c.send(pusher.AppendFrame(nil, pusher.KindSpeakerSamples,
		[]byte(`{"person_id": "p1", "conversation_id": "conv-1", "segment_ids": ["s1"]}`)))
	before := time.Now().UTC()
	td.Cmp(t, c.process("conv-1", "en"), pusher.Result{ConversationID: "conv-1", Success: true})

	want := slices.Concat(ramp(1, 3200), make([]int16, 1600), ramp(5001, 1200))
	b, err := os.ReadFile(filepath.Join(r.dir, "conv-1", "audio.wav"))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, b[:44], wantWAVHeader(16000, len(want)))
	td.Cmp(t, b[44:], pcm(want))

	conv, err := record.ReadConversation(r.dir, "conv-1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, conv.Samples, want)
	td.Cmp(t, conv.Meta, td.Struct(record.Meta{
		ConversationID:   "conv-1",
		UID:              "user-1",
		SampleRate:       16000,
		Language:         "en",
		StartUnix:        t0,
		Samples:          6000,
		DurationSec:      0.375,
		GapSamples:       1600,
		DuplicateSamples: 2000,
		SegmentLines:     3,
	}, td.StructFields{"FinishedAt": td.Between(before, time.Now().UTC())}))
	td.Cmp(t, conv.Segments, []json.RawMessage{
		json.RawMessage(`{"id":"s1","text":"hello","start":0.0}`),
		json.RawMessage(`{"id":"s1","text":"hello world"}`),
		json.RawMessage(`{"id":"s2","text":"bye"}`),
	})
	td.Cmp(t, conv.Speakers, []json.RawMessage{
		json.RawMessage(`{"person_id":"p1","conversation_id":"conv-1","segment_ids":["s1"]}`),
	})
	// meta.json holds every documented field.
	mb, err := os.ReadFile(filepath.Join(r.dir, "conv-1", "meta.json"))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, json.RawMessage(mb), td.JSON(`{
		"conversation_id": "conv-1", "uid": "user-1", "sample_rate": 16000, "language": "en",
		"start_unix": 1700000000, "samples": 6000, "duration_sec": 0.375,
		"gap_samples": 1600, "duplicate_samples": 2000, "segment_lines": 3,
		"finished_at": $1}`, td.Re(`^\d{4}-\d\d-\d\dT`)))
	td.Cmp(t, dirNames(t, r.dir), []string{".staging", "conv-1"})
	td.Cmp(t, dirNames(t, filepath.Join(r.dir, ".staging")), []string{})

	m := r.metricsOf(t)
	td.Cmp(t, m[`earshot_record_frames_total{kind="audio"}`], "5")
	td.Cmp(t, m[`earshot_record_frames_total{kind="heartbeat"}`], "1")
	td.Cmp(t, m[`earshot_record_audio_bytes_total`], "12800") // 6400 samples received
	td.Cmp(t, m[`earshot_record_segments_total`], "3")
	td.Cmp(t, m[`earshot_record_conversations_finished_total{result="ok"}`], "1")
	td.Cmp(t, m[`earshot_record_connections`], "1")
}

// dirNames lists a directory's entries.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	td.Require(t).CmpNoError(err)
	names := []string{}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestProcessAnsweredOnceDurableAndIdempotent(t *testing.T) {
	r := newRig(t, "", record.Config{})
	c := r.dial(t, "u", 8000)
	c.conversation("c")
	c.audio(t0, ramp(1, 80))
	c.segments("c", `{"id":"s1"}`)
	td.Cmp(t, c.process("c", "de"), pusher.Result{ConversationID: "c", Success: true})
	// The 201 came: the files are there now, the staging directory gone.
	first, err := record.ReadConversation(r.dir, "c")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, first.Samples, ramp(1, 80))
	td.Cmp(t, first.Segments, []json.RawMessage{json.RawMessage(`{"id":"s1"}`)})
	_, err = os.Stat(filepath.Join(r.dir, ".staging", "c"))
	td.Cmp(t, err, td.ErrorIs(os.ErrNotExist))

	// Data after the finish is dropped; a second 104 succeeds again.
	c.audio(t0+0.01, ramp(81, 80))
	c.segments("c", `{"id":"s2"}`)
	c.send(pusher.AppendFrame(nil, pusher.KindSpeakerSamples, []byte(`{"person_id":"p","conversation_id":"c"}`)))
	td.Cmp(t, c.process("c", "fr"), pusher.Result{ConversationID: "c", Success: true})
	again, err := record.ReadConversation(r.dir, "c")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, again, first)
	m := r.metricsOf(t)
	td.Cmp(t, m[`earshot_record_dropped_frames_total{reason="finished"}`], "3")
	td.Cmp(t, m[`earshot_record_conversations_finished_total{result="ok"}`], "1")

	// Another connection (a reconnect) gets success too.
	td.Cmp(t, r.dial(t, "u", 8000).process("c", ""), pusher.Result{ConversationID: "c", Success: true})
}

func TestProcessWithNothingStaged(t *testing.T) {
	r := newRig(t, "", record.Config{})
	c := r.dial(t, "u", 24000)
	td.Cmp(t, c.process("empty", "en"), pusher.Result{ConversationID: "empty", Success: true})
	b, err := os.ReadFile(filepath.Join(r.dir, "empty", "audio.wav"))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, b, wantWAVHeader(24000, 0))
	conv, err := record.ReadConversation(r.dir, "empty")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, conv.Meta, td.SStruct(record.Meta{ConversationID: "empty", UID: "u", SampleRate: 24000, Language: "en"},
		td.StructFields{"FinishedAt": td.NotZero()}))
	td.Cmp(t, conv.Samples, []int16{})
	td.CmpNil(t, conv.Segments)
	td.CmpNil(t, conv.Speakers)
	b, err = os.ReadFile(filepath.Join(r.dir, "empty", "segments.jsonl"))
	td.Require(t).CmpNoError(err)
	td.CmpEmpty(t, b)
}

func TestInvalidConversationIDs(t *testing.T) {
	r := newRig(t, "", record.Config{})
	c := r.dial(t, "u", 16000)
	c.audio(t0, ramp(1, 16)) // no 103 yet
	c.conversation("../escape")
	c.audio(t0, ramp(1, 16))
	c.conversation("ok")
	c.conversation("") // invalid: audio is dropped until a valid 103
	c.audio(t0, ramp(1, 16))
	c.segments("../../etc", `{"id":"s"}`)
	c.segments("", `{"id":"s"}`) // no current conversation to default to
	c.send(pusher.AppendFrame(nil, pusher.KindSpeakerSamples, []byte(`{"conversation_id":"a/b"}`)))
	td.Cmp(t, c.process(".staging", ""), pusher.Result{ConversationID: ".staging", Error: "invalid conversation id"})
	c.conversation("ok")
	c.audio(t0, ramp(7, 16))
	td.Cmp(t, c.process("ok", ""), pusher.Result{ConversationID: "ok", Success: true})

	td.Cmp(t, dirNames(t, r.dir), []string{".staging", "ok"})
	conv, err := record.ReadConversation(r.dir, "ok")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, conv.Samples, ramp(7, 16))
	m := r.metricsOf(t)
	td.Cmp(t, m[`earshot_record_dropped_frames_total{reason="bad_conversation_id"}`], "6")
	td.Cmp(t, m[`earshot_record_dropped_frames_total{reason="no_conversation"}`], "3")
}

// Frames that cannot be used are counted and ignored; the connection
// stays up.
func TestUnusableFramesAreIgnored(t *testing.T) {
	r := newRig(t, "", record.Config{MaxGapSec: 1})
	c := r.dial(t, "u", 16000)
	c.conversation("c")
	c.send(pusher.AppendFrame(nil, 999, []byte("what")))
	c.send(pusher.AppendFrame(nil, pusher.KindResult, []byte(`{"conversation_id":"c","success":true}`)))
	c.send([]byte{101, 0})
	ctx := t.Context()
	td.Require(t).CmpNoError(c.c.Write(ctx, websocket.MessageText, []byte("a text message")))
	c.send(pusher.AppendFrame(nil, pusher.KindAudio, []byte{1, 2, 3})) // no timestamp
	c.send(pusher.AppendAudio(nil, -1, pcm(ramp(1, 4))))               // bad time
	c.send(pusher.AppendAudio(nil, t0, []byte{1, 2, 3}))               // odd PCM
	c.send(pusher.AppendFrame(nil, pusher.KindSegments, []byte(`{"segments":`)))
	c.segments("c", `[1]`)                                                   // not an object
	c.send(pusher.AppendFrame(nil, pusher.KindSpeakerSamples, []byte(`[]`))) // not an object
	c.send(pusher.AppendFrame(nil, pusher.KindProcess, []byte(`nope`)))      // unanswered
	c.audio(t0, ramp(1, 16))
	c.audio(t0+2, ramp(1, 16)) // a gap beyond MaxGapSec
	td.Cmp(t, c.process("c", ""), pusher.Result{ConversationID: "c", Success: true})
	conv, err := record.ReadConversation(r.dir, "c")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, conv.Samples, ramp(1, 16))

	m := r.metricsOf(t)
	td.Cmp(t, m, td.SuperMapOf(map[string]string{
		`earshot_record_frames_total{kind="unknown"}`:                 "3",
		`earshot_record_frames_total{kind="text"}`:                    "1",
		`earshot_record_dropped_frames_total{reason="unknown_kind"}`:  "2",
		`earshot_record_dropped_frames_total{reason="short_frame"}`:   "1",
		`earshot_record_dropped_frames_total{reason="text_frame"}`:    "1",
		`earshot_record_dropped_frames_total{reason="bad_payload"}`:   "7",
		`earshot_record_dropped_frames_total{reason="gap_too_large"}`: "1",
		`earshot_record_conversations_finished_total{result="ok"}`:    "1",
		`earshot_record_conversations_finished_total{result="error"}`: "0",
	}, nil))
}
