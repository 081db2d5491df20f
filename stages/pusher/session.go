package pusher

import (
	"log/slog"
	"math"
	"sync"
	"time"

	"earshot/stages"
)

// SessionParams describe one listen session to the pusher.
type SessionParams struct {
	// UID is the user the session belongs to (the uid query parameter).
	UID string
	// SampleRateHz is the rate of the session's audio (mono PCM16).
	SampleRateHz int
	// Language is the session's language, sent with each 104.
	Language string
	// ConversationTimeoutSec is the session's conversation timeout in
	// seconds: audio more than this past a conversation's last word is
	// held back until the fan-out says whether the conversation goes on.
	ConversationTimeoutSec float64
	// ID names the session in logs.
	ID string
}

// Session is one listen session's pusher sink. The fan-out calls Name,
// Push and Close (it is a fanout.Sink) from its goroutine; Audio may be
// called from another goroutine (the ingest's), concurrently with those.
// None of them blocks: they only touch buffers under a mutex and wake the
// session's connection goroutine, which the Pusher owns and which ends
// once everything is delivered and answered after Close, or when
// LingerMs after Close passes, or when the Pusher shuts down.
type Session struct {
	p      *Pusher
	params SessionParams
	url    string
	log    *slog.Logger
	rate   float64
	hold   int64 // samples past a conversation's last word held back

	closedCh chan struct{} // closed by Close

	mu       sync.Mutex
	closed   bool
	base     float64 // unix seconds of capture index 0, once audio came
	hasBase  bool
	audio    audioQueue
	convs    []convAudio // conversations whose audio is not all sent, by start
	items    []item      // segments and speaker samples, oldest first
	reqs     []*request  // unanswered processing requests, oldest first
	answered chan struct{}
	st       Stats

	// tail holds the frames written within ResendMs, oldest first, and
	// lostAt when the last connection was lost: owned by the connection
	// goroutine.
	tail   []sentFrame
	lostAt time.Time
}

// sentFrame is a frame written at a time, kept for a resend.
type sentFrame struct {
	at time.Time
	b  []byte
}

// convAudio is a conversation's span on the capture clock, for routing
// audio: [start, end), end < 0 while it is open; last is the capture
// index where its latest known word ended.
type convAudio struct {
	id               string
	start, end, last int64
}

// item is a segment batch or a speaker-samples request for the pusher.
type item struct {
	convID string
	segs   []stages.Segment
	assign *stages.SpeakerAssignment
}

// request is a processing request (104) not yet answered.
type request struct {
	convID, language string
	ready            bool      // the conversation's audio is all sent
	sentGen          int       // connection it was last sent on, 0 none
	sentAt           time.Time // when it was last sent
}

// Stats are a session's pusher counts.
type Stats struct {
	// SentBytes counts the bytes of frames written.
	SentBytes int64
	// SentSegments counts segments sent in 102s.
	SentSegments int64
	// DroppedAudioSamples counts conversation audio dropped by the cap.
	DroppedAudioSamples int64
	// DroppedSegments counts segments dropped by the cap.
	DroppedSegments int64
	// MaxAudioBytes is the most audio ever buffered at once.
	MaxAudioBytes int
	// ResentBytes counts the bytes of frames written again after a
	// reconnect (Config.ResendMs).
	ResentBytes int64
	// Answered counts processing requests answered; GivenUp those given
	// up (past MaxPending or LingerMs).
	Answered, GivenUp int
}

// Name is the sink's name, for the fan-out's counts.
func (s *Session) Name() string { return "pusher" }

// Stats reports the session's counts so far. Safe for concurrent use.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// Audio buffers a copy of a's PCM (mono, on the session's capture
// clock, at SampleRateHz) for the pusher. The first call fixes the wall
// time of capture index 0 (now minus a.Start). It never blocks.
func (s *Session) Audio(a stages.Audio) {
	if len(a.PCM) < 2 {
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if !s.hasBase {
		s.hasBase = true
		s.base = float64(time.Now().UnixNano())/1e9 - float64(a.Start)/s.rate
	}
	from, to := s.audio.add(a.Start, a.PCM, time.Now())
	if to > from && len(s.convs) > 0 && to > s.convs[0].start {
		n := to - max(from, s.convs[0].start)
		s.st.DroppedAudioSamples += n
		s.p.m.droppedAudio.Add(float64(n) / s.rate)
	}
	s.st.MaxAudioBytes = max(s.st.MaxAudioBytes, s.audio.bytes)
	s.mu.Unlock()
}

// Push takes a fan-out message: a conversation's start or end, segments,
// or a speaker assignment; others (state events) are not the pusher's.
// It never blocks and always reports true: what the caps drop is counted
// here.
func (s *Session) Push(m stages.Message) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return true
	}
	switch {
	case m.Conversation != nil:
		s.conversation(*m.Conversation)
	case m.Assignment != nil && m.Assignment.PersonID != "" && m.ConversationID != "":
		a := *m.Assignment
		a.SegmentIDs = nil
		for _, seg := range m.Segments {
			if seg.PersonID != nil && *seg.PersonID == a.PersonID {
				a.SegmentIDs = append(a.SegmentIDs, seg.ID)
			}
		}
		s.addItem(item{convID: m.ConversationID, segs: m.Segments, assign: &a})
	case len(m.Segments) > 0 && m.ConversationID != "":
		s.heard(m.ConversationID, m.Segments)
		s.addItem(item{convID: m.ConversationID, segs: m.Segments})
	}
	return true
}

// conversation records a conversation's start (its audio from StartSec
// on goes to it) or end (its audio stops at EndSec; its processing
// request is queued). s.mu is held.
func (s *Session) conversation(c stages.Conversation) {
	switch c.Change {
	case stages.ConversationStarted:
		start := s.sample(c.StartSec)
		s.convs = append(s.convs, convAudio{id: c.ID, start: start, end: -1, last: start})
	case stages.ConversationEnded:
		for i := range s.convs {
			if s.convs[i].id == c.ID {
				s.convs[i].end = max(s.sample(c.EndSec), s.convs[i].start)
			}
		}
		if len(s.reqs) >= s.p.cfg.MaxPending {
			s.giveUp(1)
			s.reqs = s.reqs[1:]
		}
		s.reqs = append(s.reqs, &request{convID: c.ID, language: s.params.Language})
		s.p.m.pending.Add(1)
	}
}

// heard moves the open conversation's last known word to the end of segs.
// s.mu is held.
func (s *Session) heard(convID string, segs []stages.Segment) {
	for i := range s.convs {
		c := &s.convs[i]
		if c.id != convID || c.end >= 0 {
			continue
		}
		startSec := float64(c.start) / s.rate
		for _, seg := range segs {
			c.last = max(c.last, s.sample(startSec+seg.End))
		}
	}
}

// addItem queues it, dropping the oldest segment batch past the cap.
// s.mu is held.
func (s *Session) addItem(it item) {
	s.items = append(s.items, it)
	if len(s.items) <= s.p.cfg.SegmentBatches {
		return
	}
	old := s.items[0]
	s.items[0] = item{}
	s.items = s.items[1:]
	s.st.DroppedSegments += int64(len(old.segs))
	s.p.m.droppedSegments.Add(len(old.segs))
}

// Close says no message will come any more (the fan-out returned, after
// every stage before it: all the session's audio is in). The connection
// goroutine delivers what is left, then waits for the answers.
func (s *Session) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	close(s.closedCh)
}

// sample converts capture seconds to a capture index.
func (s *Session) sample(sec float64) int64 { return int64(math.Round(sec * s.rate)) }

// giveUp counts n processing requests given up. s.mu is held.
func (s *Session) giveUp(n int) {
	if n == 0 {
		return
	}
	s.st.GivenUp += n
	s.p.m.pending.Add(int64(-n))
	s.p.m.requests("given_up").Add(n)
	s.log.Warn("pusher processing requests given up", "requests", n)
}
