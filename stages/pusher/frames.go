package pusher

import (
	"encoding/json"
	"strconv"
	"time"

	wire "earshot/protocol/pusher"
	"earshot/stages"
)

// connState is what one connection has been sent.
type connState struct {
	gen    int    // the connection's number, from 1
	lastID string // the conversation id of the last 103
}

// nextFrame returns the next frame to write on the connection c, or nil
// when nothing is due: first the audio that is decided (each
// conversation's, after a 103 when the conversation changes; audio past
// an open conversation's last word plus the timeout waits), then the
// segment batches and speaker samples in order (one 102 for a run of the
// same conversation's batches), then the processing requests whose audio
// is all sent and that this connection has not been sent yet. What it
// returns is taken from the buffers: a frame lost with its connection is
// lost, except a processing request, which stays until answered.
func (s *Session) nextFrame(c *connState, now time.Time) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.audioFrame(c); f != nil {
		return f, nil
	}
	if len(s.items) > 0 {
		return s.itemFrame()
	}
	for _, r := range s.reqs {
		if !r.ready || r.sentGen == c.gen {
			continue
		}
		r.sentGen, r.sentAt = c.gen, now
		b, err := json.Marshal(wire.Process{ConversationID: r.convID, Language: r.language})
		if err != nil {
			return nil, err
		}
		return wire.AppendFrame(nil, wire.KindProcess, b), nil
	}
	return nil, nil
}

// audioFrame returns the next 103 or 101 frame, or nil. s.mu is held.
func (s *Session) audioFrame(c *connState) []byte {
	for len(s.convs) > 0 {
		conv := &s.convs[0]
		s.audio.dropBefore(conv.start) // between conversations
		limit := conv.end
		if limit < 0 {
			limit = conv.last + s.hold
		}
		if s.audio.due(limit) && c.lastID != conv.id {
			c.lastID = conv.id
			return wire.AppendFrame(nil, wire.KindConversation, []byte(conv.id))
		}
		if chunk, ok := s.audio.take(limit, s.p.cfg.MaxFrameBytes); ok {
			return wire.AppendAudio(nil, s.base+float64(chunk.start)/s.rate, chunk.pcm)
		}
		if conv.end < 0 {
			return nil // open: the rest is not decided yet
		}
		s.audioDone(conv.id)
		s.convs = s.convs[1:]
	}
	// No conversation: keep only what arrived in the last IdleAudioMs
	// (wall time: the next conversation's first words are reported that
	// much later, however fast the client sends).
	s.audio.dropArrivedBefore(time.Now().Add(-time.Duration(s.p.cfg.IdleAudioMs) * time.Millisecond))
	return nil
}

// audioDone marks conversation id's processing request ready: its audio
// is all sent. s.mu is held.
func (s *Session) audioDone(id string) {
	for _, r := range s.reqs {
		if r.convID == id {
			r.ready = true
		}
	}
}

// itemFrame returns the frame of the oldest items: one 102 for the run
// of segment batches of one conversation at the head (segments sent
// again keep only their latest form), or one 105. s.mu is held.
func (s *Session) itemFrame() ([]byte, error) {
	head := s.items[0]
	if head.assign != nil && len(head.segs) == 0 {
		s.items = s.items[1:]
		return s.speakerFrame(head)
	}
	var segs []stages.Segment
	index := map[string]int{}
	n := 0
	for n < len(s.items) && s.items[n].convID == head.convID && (n == 0 || s.items[n].assign == nil) {
		for _, sg := range s.items[n].segs {
			if i, ok := index[sg.ID]; ok {
				segs[i] = sg
				continue
			}
			index[sg.ID] = len(segs)
			segs = append(segs, sg)
		}
		n++
	}
	assign := head.assign
	clear(s.items[:n])
	s.items = s.items[n:]
	if len(s.items) == 0 {
		s.items = nil
	}
	if assign != nil {
		// The segments an assignment re-sent go first, then its 105.
		s.items = append([]item{{convID: head.convID, assign: assign}}, s.items...)
	}
	arr, err := s.p.deps.EncodeSegments(segs)
	if err != nil {
		return nil, err
	}
	s.st.SentSegments += int64(len(segs))
	s.p.m.sentSegments.Add(len(segs))
	b := make([]byte, 0, wire.HeaderBytes+len(arr)+len(head.convID)+32)
	b = wire.AppendFrame(b, wire.KindSegments, nil)
	b = append(b, `{"segments":`...)
	b = append(b, arr...)
	b = append(b, `,"memory_id":`...)
	b = strconv.AppendQuote(b, head.convID)
	return append(b, '}'), nil
}

// speakerFrame is the 105 of an assignment item.
func (s *Session) speakerFrame(it item) ([]byte, error) {
	ids := it.assign.SegmentIDs
	if ids == nil {
		ids = []string{}
	}
	b, err := json.Marshal(wire.SpeakerSamples{PersonID: it.assign.PersonID, ConversationID: it.convID, SegmentIDs: ids})
	if err != nil {
		return nil, err
	}
	return wire.AppendFrame(nil, wire.KindSpeakerSamples, b), nil
}

// answer takes a 201: the request of its conversation is answered. It
// reports whether one was waiting.
func (s *Session) answer(res wire.Result, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.reqs {
		if r.convID != res.ConversationID {
			continue
		}
		s.reqs = append(s.reqs[:i], s.reqs[i+1:]...)
		s.st.Answered++
		s.p.m.pending.Add(-1)
		if !r.sentAt.IsZero() {
			s.p.m.processSeconds.Update(now.Sub(r.sentAt).Seconds())
		}
		result := "success"
		if !res.Success {
			result = "error"
			s.log.Warn("pusher could not process a conversation", "conversation", r.convID, "error", res.Error)
		}
		s.p.m.requests(result).Inc()
		return true
	}
	return false
}

// done reports whether the session is over and nothing is left to send
// or to wait for.
func (s *Session) done() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed && len(s.convs) == 0 && len(s.items) == 0 && len(s.reqs) == 0
}

// abandon gives up what is left when the session's goroutine ends
// before it was delivered.
func (s *Session) abandon() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.giveUp(len(s.reqs))
	s.reqs = nil
	s.audio = audioQueue{cap: s.audio.cap}
	s.items = nil
	s.convs = nil
}
