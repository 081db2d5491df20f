package record_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/protocol/pusher"
	"earshot/record"
)

// A Recorder closed mid-conversation, and a new one on the same Dir: the
// sender reconnects, names the conversation, re-sends what it is not sure
// of, goes on, and ends with one complete conversation.
func TestRestartResumesAStagedConversation(t *testing.T) {
	dir := t.TempDir()
	first := newRig(t, dir, record.Config{})
	c := first.dial(t, "u", 16000)
	c.conversation("c")
	c.audio(t0, ramp(1, 1600))
	c.audio(t0+0.2, ramp(3201, 800)) // after a gap
	c.segments("c", `{"id":"s1"}`)
	c.barrier()
	first.close()
	td.Cmp(t, c.closeStatus(), websocket.StatusGoingAway)

	second := newRig(t, dir, record.Config{})
	c = second.dial(t, "u", 16000)
	c.conversation("c")
	c.audio(t0+0.2, ramp(3201, 800)) // re-sent
	c.audio(t0+0.25, ramp(4001, 1600))
	c.segments("c", `{"id":"s2"}`)
	td.Cmp(t, c.process("c", "en"), pusher.Result{ConversationID: "c", Success: true})

	conv, err := record.ReadConversation(dir, "c")
	td.Require(t).CmpNoError(err)
	want := append(append(ramp(1, 1600), make([]int16, 1600)...), ramp(3201, 2400)...)
	td.Cmp(t, conv.Samples, want)
	td.Cmp(t, conv.Meta, td.SuperJSONOf(`{"start_unix":1700000000,"samples":5600,"gap_samples":1600,"duplicate_samples":800,"segment_lines":2}`))
	td.Cmp(t, conv.Segments, []json.RawMessage{json.RawMessage(`{"id":"s1"}`), json.RawMessage(`{"id":"s2"}`)})

	// A third process answers the finished conversation from disk.
	second.close()
	third := newRig(t, dir, record.Config{})
	td.Cmp(t, third.dial(t, "u", 16000).process("c", ""), pusher.Result{ConversationID: "c", Success: true})
	again, err := record.ReadConversation(dir, "c")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, again, conv)
}

// What a crash leaves in the staging directory is repaired by New: a
// torn last audio sample, a partial JSONL line, a scratch WAV, a half
// built staging directory.
func TestRestartRepairsTornWrites(t *testing.T) {
	dir := t.TempDir()
	first := newRig(t, dir, record.Config{})
	c := first.dial(t, "u", 16000)
	c.conversation("c")
	c.audio(t0, ramp(1, 100))
	c.segments("c", `{"id":"s1"}`)
	c.send(pusher.AppendFrame(nil, pusher.KindSpeakerSamples, []byte(`{"conversation_id":"c","person_id":"p"}`)))
	c.barrier()
	first.close()

	staged := filepath.Join(dir, ".staging", "c")
	appendTo(t, filepath.Join(staged, "audio.pcm"), "\x07")
	appendTo(t, filepath.Join(staged, "segments.jsonl"), `{"id":"to`)
	appendTo(t, filepath.Join(staged, "speakers.jsonl"), `{"conversation_id":"c","per`)
	appendTo(t, filepath.Join(staged, "audio.wav"), "scratch")
	td.Require(t).CmpNoError(os.MkdirAll(filepath.Join(dir, ".staging", ".new-d-123"), 0o750))

	second := newRig(t, dir, record.Config{})
	td.Cmp(t, dirNames(t, filepath.Join(dir, ".staging")), []string{"c"})
	c = second.dial(t, "u", 16000)
	c.conversation("c")
	c.audio(t0+100.0/16000, ramp(101, 10))
	c.segments("c", `{"id":"s2"}`)
	td.Cmp(t, c.process("c", ""), pusher.Result{ConversationID: "c", Success: true})
	conv, err := record.ReadConversation(dir, "c")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, conv.Samples, ramp(1, 110))
	td.Cmp(t, conv.Segments, []json.RawMessage{json.RawMessage(`{"id":"s1"}`), json.RawMessage(`{"id":"s2"}`)})
	td.Cmp(t, conv.Speakers, []json.RawMessage{json.RawMessage(`{"conversation_id":"c","person_id":"p"}`)})
}

// A crash after a finish synced its files but before the rename: New
// completes it.
func TestRestartCompletesAPreparedFinish(t *testing.T) {
	dir := t.TempDir()
	first := newRig(t, dir, record.Config{})
	c := first.dial(t, "u", 16000)
	c.conversation("c")
	c.audio(t0, ramp(1, 100))
	td.Cmp(t, c.process("c", ""), pusher.Result{ConversationID: "c", Success: true})
	first.close()
	want, err := record.ReadConversation(dir, "c")
	td.Require(t).CmpNoError(err)
	// Exactly the state before the rename.
	td.Require(t).CmpNoError(os.Rename(filepath.Join(dir, "c"), filepath.Join(dir, ".staging", "c")))
	ids, err := record.Finished(dir)
	td.Require(t).CmpNoError(err)
	td.CmpEmpty(t, ids)

	second := newRig(t, dir, record.Config{})
	ids, err = record.Finished(dir)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, ids, []string{"c"})
	got, err := record.ReadConversation(dir, "c")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, got, want)
	td.Cmp(t, second.dial(t, "u", 16000).process("c", ""), pusher.Result{ConversationID: "c", Success: true})
}

// A staging directory New cannot make sense of is left alone; a 104 for
// it answers an error.
func TestRestartLeavesCorruptStagingAlone(t *testing.T) {
	dir := t.TempDir()
	td.Require(t).CmpNoError(os.MkdirAll(filepath.Join(dir, ".staging", "c"), 0o750))
	appendTo(t, filepath.Join(dir, ".staging", "c", "audio.pcm"), "\x01\x00")
	r := newRig(t, dir, record.Config{})
	c := r.dial(t, "u", 16000)
	td.Cmp(t, c.process("c", ""), pusher.Result{ConversationID: "c", Error: "storage error"})
	c.conversation("c")
	c.audio(t0, ramp(1, 10))
	c.barrier()
	td.Cmp(t, r.metricsOf(t)[`earshot_record_dropped_frames_total{reason="unreadable"}`], "1")
	td.Cmp(t, dirNames(t, filepath.Join(dir, ".staging", "c")), []string{"audio.pcm"})
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	td.Require(t).CmpNoError(err)
	_, err = f.WriteString(s)
	td.Require(t).CmpNoError(err)
	td.Require(t).CmpNoError(f.Close())
}
