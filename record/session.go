package record

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"unicode/utf8"

	"earshot/protocol/pusher"
)

// session is one connection's frame handling, apart from its socket:
// handle takes the messages in order and returns the replies. It is
// used by one goroutine at a time; close releases what it holds.
type session struct {
	rec *Recorder
	who who
	log *slog.Logger
	// cur is the current conversation (set by a valid 103), held with a
	// store reference; nil before one and after an invalid 103.
	cur *conv
}

func newSession(rec *Recorder, w who, log *slog.Logger) *session {
	return &session{rec: rec, who: w, log: log}
}

// close releases the current conversation.
func (s *session) close() {
	if s.cur != nil {
		s.rec.store.release(s.cur)
		s.cur = nil
	}
}

// handle processes one message (binary tells its WebSocket type) and
// returns the frame to answer with, or nil. It never fails: what it
// cannot use is counted and dropped. data is not kept.
func (s *session) handle(binary bool, data []byte) []byte {
	m := s.rec.m
	if !binary {
		m.frames["text"].Inc()
		s.drop(dropText, nil)
		return nil
	}
	kind, payload, err := pusher.Parse(data)
	if err != nil {
		m.frames["unknown"].Inc()
		s.drop(dropShort, nil)
		return nil
	}
	m.frame(kind)
	switch kind {
	case pusher.KindHeartbeat:
	case pusher.KindAudio:
		s.audio(payload)
	case pusher.KindSegments:
		s.segments(payload)
	case pusher.KindConversation:
		s.conversation(string(payload))
	case pusher.KindSpeakerSamples:
		s.speakers(payload)
	case pusher.KindProcess:
		return s.process(payload)
	default:
		s.drop(dropUnknownKind, nil, "kind", uint32(kind))
	}
	return nil
}

// drop counts a dropped frame and logs it: at debug level, or as a
// warning for a disk error.
func (s *session) drop(r dropReason, err error, attrs ...any) {
	s.rec.m.drop(r)
	attrs = append(attrs, "reason", string(r))
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	level := slog.LevelDebug
	if r == dropDiskError || r == dropUnreadable {
		level = slog.LevelWarn
	}
	s.log.Log(context.Background(), level, "record: frame dropped", attrs...)
}

func (s *session) conversation(id string) {
	if !pusher.ValidConversationID(id) {
		s.close()
		s.rec.m.drop(dropBadID)
		s.log.Warn("record: invalid conversation id; audio is dropped until a valid one", "id_bytes", len(id))
		return
	}
	if s.cur != nil && s.cur.id == id {
		return
	}
	s.close()
	s.cur = s.rec.store.acquire(id)
	s.log.Debug("record: current conversation", "conversation_id", id)
}

func (s *session) audio(payload []byte) {
	t, pcm, err := pusher.ParseAudio(payload)
	if err != nil {
		s.drop(dropBadPayload, err, "kind", "audio")
		return
	}
	s.rec.m.audioBytes.Add(len(pcm))
	if s.cur == nil {
		s.drop(dropNoConv, nil)
		return
	}
	if r, err := s.cur.appendAudio(s.who, t, pcm); r != "" {
		s.drop(r, err, "conversation_id", s.cur.id)
	}
}

// with runs f on conversation id: the current one, or one acquired for
// the call.
func (s *session) with(id string, f func(c *conv)) {
	if s.cur != nil && s.cur.id == id {
		f(s.cur)
		return
	}
	c := s.rec.store.acquire(id)
	defer s.rec.store.release(c)
	f(c)
}

// segments appends a 102's segments to its conversation (memory_id, or
// the current one when it has none) as compact JSON lines. The batch is
// taken whole or dropped whole.
func (s *session) segments(payload []byte) {
	var msg pusher.Segments
	if err := json.Unmarshal(payload, &msg); err != nil {
		s.drop(dropBadPayload, err, "kind", "segments")
		return
	}
	id := msg.MemoryID
	if id == "" && s.cur != nil {
		id = s.cur.id
	}
	if !pusher.ValidConversationID(id) {
		s.drop(dropBadID, nil, "kind", "segments")
		return
	}
	var lines []byte
	for _, seg := range msg.Segments {
		var err error
		if lines, err = appendLine(lines, seg); err != nil {
			s.drop(dropBadPayload, err, "kind", "segments")
			return
		}
	}
	if len(msg.Segments) == 0 {
		return
	}
	s.with(id, func(c *conv) {
		if r, err := c.appendLines(s.who, lines, false); r != "" {
			s.drop(r, err, "conversation_id", id)
			return
		}
		s.rec.m.segments.Add(len(msg.Segments))
	})
}

// speakers appends a 105 as one compact JSON line to its conversation's
// speakers.jsonl.
func (s *session) speakers(payload []byte) {
	var msg pusher.SpeakerSamples
	if err := json.Unmarshal(payload, &msg); err != nil {
		s.drop(dropBadPayload, err, "kind", "speaker_samples")
		return
	}
	if !pusher.ValidConversationID(msg.ConversationID) {
		s.drop(dropBadID, nil, "kind", "speaker_samples")
		return
	}
	line, err := appendLine(nil, payload)
	if err != nil {
		s.drop(dropBadPayload, err, "kind", "speaker_samples")
		return
	}
	s.with(msg.ConversationID, func(c *conv) {
		if r, err := c.appendLines(s.who, line, true); r != "" {
			s.drop(r, err, "conversation_id", msg.ConversationID)
		}
	})
}

// process finishes a 104's conversation and returns the 201 answering
// it: success once the conversation is durably on disk (again for one
// already finished), else an error text. An unparsable 104 is dropped
// unanswered (it names no conversation).
func (s *session) process(payload []byte) []byte {
	var msg pusher.Process
	if err := json.Unmarshal(payload, &msg); err != nil {
		s.drop(dropBadPayload, err, "kind", "process")
		return nil
	}
	id := msg.ConversationID
	res := pusher.Result{ConversationID: id}
	if !pusher.ValidConversationID(id) {
		s.drop(dropBadID, nil, "kind", "process")
		res.Error = "invalid conversation id"
		return resultFrame(res)
	}
	s.with(id, func(c *conv) {
		meta, again, err := c.finish(s.who, msg.Language)
		switch {
		case errors.Is(err, ErrOwner):
			s.rec.m.finishedError.Inc()
			s.log.Warn("record: 104 for another uid's conversation", "conversation_id", id)
			res.Error = "conversation belongs to another uid"
		case err != nil:
			s.rec.m.finishedError.Inc()
			s.log.Error("record: finishing a conversation", "conversation_id", id, "err", err)
			res.Error = "storage error"
		case again:
			s.log.Debug("record: 104 for a finished conversation", "conversation_id", id)
			res.Success = true
		default:
			s.rec.m.finishedOK.Inc()
			s.log.Info("record: conversation finished", "conversation_id", id,
				"samples", meta.Samples, "duration_sec", meta.DurationSec,
				"gap_samples", meta.GapSamples, "duplicate_samples", meta.DuplicateSamples,
				"segment_lines", meta.SegmentLines)
			res.Success = true
		}
	})
	return resultFrame(res)
}

func resultFrame(res pusher.Result) []byte {
	b, _ := json.Marshal(res) // strings and a bool: it cannot fail
	return pusher.AppendFrame(nil, pusher.KindResult, b)
}

// errNotObject: a segment or speaker-samples payload that is not a JSON
// object (or not UTF-8).
var errNotObject = errors.New("not a UTF-8 JSON object")

// appendLine appends raw (valid JSON) compacted, and a '\n', to dst.
func appendLine(dst, raw []byte) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' || !utf8.Valid(raw) {
		return dst, errNotObject
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return dst, err
	}
	return append(append(dst, buf.Bytes()...), '\n'), nil
}
