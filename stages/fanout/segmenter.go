package fanout

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"earshot/internal/uuid"
	"earshot/stages"
)

// Defaults of SegmenterConfig (Omi's).
const (
	DefaultMaxGapSec     = 3.0
	DefaultSentenceChars = 125
)

// SegmenterConfig tunes a Segmenter's merge rule. The zero value selects
// the defaults.
type SegmenterConfig struct {
	// MaxGapSec is the silence, in seconds, under which a new segment may
	// be appended to the previous one: a merge needs
	// new.start - prev.end < MaxGapSec. Zero or negative means 3.
	MaxGapSec float64
	// SentenceChars is the length, in characters (runes), from which a
	// text ending in '.', '?' or '!' counts as a finished sentence. Zero or
	// negative means 125.
	SentenceChars int
}

// Segmenter builds a conversation's transcript segments from final
// provider results, the way Omi's listen backend does
// (spec/listen-protocol.md, "Building segments from provider results").
//
// Add buffers new segments; Flush, called by the owner every 0.6 s, merges
// them into the conversation and reports what changed. One Segmenter
// serves one conversation; start a new one when the conversation ends.
//
// The conversation is kept ordered by start time. A result that arrives
// late (for example from a replaced upstream stream) is placed by its start
// time; when it is merged into a segment its text is appended to that
// segment's text (words inside one segment are not re-sorted). If placing
// it closes the gap to the following segment, that segment is absorbed by
// the merge rule too; if the client had already seen the absorbed segment
// its ID is reported as deleted, unless the absorbing segment is itself new,
// in which case it takes over that ID so that clients simply upsert. With
// results in time order (the normal case) only the last segment grows and
// nothing is ever deleted.
//
// Assign applies a client's naming of a speaker (stages.SpeakerAssignment).
//
// A Segmenter is NOT safe for concurrent use; the fan-out stage owns it.
type Segmenter struct {
	maxGapMs      int64
	sentenceChars int
	provider      string
	newID         func() string

	hasOrigin bool
	originMs  int64 // capture ms of the earliest word of the first Flush

	pending []span // new segments from Add, not yet merged
	conv    []span // the conversation, ordered by start

	persons map[int]string // speaker → person, from Assign (assign.go)

	// Speakers (speakers.go): the session's id of a later stream's
	// labels, the next id free for one, and whether ids are channels.
	scoped      map[streamLabel]int
	nextSpeaker int
	channels    bool
	// Speech profile (speakers.go): the session has one; the main socket
	// has worked through it.
	profile, processed bool
}

// span is a segment under construction. Times are whole milliseconds since
// the conversation's first speech, so that gap comparisons are exact.
type span struct {
	id             string // "" until first reported
	text           string
	speakerID      int
	isUser         bool
	personID       string // "" when unknown (Assign)
	startMs, endMs int64
	sent           bool // the client knows id
	dirty          bool // changed since the last Flush
	// endpoint: the text ends where the provider saw the speaker pause
	// (SpeechFinal) and has no punctuation of its own, so the pause stands
	// for the end of a sentence.
	endpoint bool
	// profiled: the words came after speech-profile matching ran.
	profiled bool
	// provider produced the words ("": the Segmenter's).
	provider string
}

// NewSegmenter returns an empty Segmenter. providerName fills each
// segment's stt_provider; newID makes segment IDs (nil means uuid.New; tests
// pass a deterministic one).
func NewSegmenter(cfg SegmenterConfig, providerName string, newID func() string) *Segmenter {
	if cfg.MaxGapSec <= 0 {
		cfg.MaxGapSec = DefaultMaxGapSec
	}
	if cfg.SentenceChars <= 0 {
		cfg.SentenceChars = DefaultSentenceChars
	}
	if newID == nil {
		newID = uuid.New
	}
	return &Segmenter{
		maxGapMs:      secToMs(cfg.MaxGapSec),
		sentenceChars: cfg.SentenceChars,
		provider:      providerName,
		newID:         newID,
	}
}

// Add buffers the words of one final result. Word times are capture-clock
// seconds since the session's first audio. Results that are not final
// (interim results, which a later final revises) and results without words
// are ignored. Each run of words from one diarized speaker becomes one new
// segment whose text is the words' punctuated forms (bare words when a
// provider has none) joined by single spaces.
//
// Sentences without punctuation: when the words carry no punctuation or
// casing of their own (every punctuated form equals the bare word: the
// provider gives none, like Deepgram with punctuate=false), an endpoint
// (a SpeechFinal result) ends a sentence for the merge rule, as a final
// '.', '?' or '!' does in punctuated text, so such segments split at
// pauses as punctuated ones do.
//
// The earliest word buffered at the first Flush defines time 0 of the
// conversation; a word added later that starts earlier (a late result) is
// clamped to 0.
func (s *Segmenter) Add(r stages.Result) { s.add(r, false) }

// add is Add, or AddTemporary for a result of a speech-profile session's
// temporary socket.
func (s *Segmenter) add(r stages.Result, temporary bool) {
	if !r.IsFinal {
		return
	}
	start := 0
	for i := 1; i <= len(r.Words); i++ {
		if i == len(r.Words) || r.Words[i].Speaker != r.Words[start].Speaker {
			id, user := s.speakerOf(r.Stream, r.Words[start].Speaker, temporary)
			s.addRun(r.Words[start:i], id, user, s.processed && !temporary, i == len(r.Words) && r.SpeechFinal, r.Provider)
			start = i
		}
	}
}

// addRun buffers one speaker's run of words as a new segment of speaker
// (the session's speaker id) and isUser; profiled says speech-profile
// matching ran for it; endpoint says the speaker paused after its last
// word.
func (s *Segmenter) addRun(run []stages.Word, speaker int, isUser, profiled, endpoint bool, provider string) {
	size, first, endSec := -1, -1, math.Inf(-1)
	for k, w := range run {
		if t := wordText(w); t != "" {
			size += len(t) + 1
			endSec = max(endSec, w.EndSec)
			if first < 0 {
				first = k
			}
		}
	}
	if first < 0 {
		return
	}
	var b strings.Builder
	b.Grow(size)
	for _, w := range run[first:] {
		if t := wordText(w); t != "" {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(t)
		}
	}
	// Pending spans hold capture milliseconds; Flush makes them relative
	// to the conversation's origin.
	start := secToMs(run[first].StartSec)
	s.pending = append(s.pending, span{
		text:      b.String(),
		speakerID: speaker,
		isUser:    isUser,
		profiled:  profiled,
		startMs:   start,
		endMs:     max(start, secToMs(endSec)),
		endpoint:  endpoint && bare(run),
		provider:  provider,
	})
}

// bare reports whether no word of run carries punctuation or casing of
// its own.
func bare(run []stages.Word) bool {
	for _, w := range run {
		if w.Punctuated != "" && w.Punctuated != w.Word {
			return false
		}
	}
	return true
}

// Flush merges the buffered new segments into the conversation, in the
// order they were added, and reports the result: changed holds the
// segments that are new or grew, in conversation order, as copies; deleted
// holds the IDs of segments the client had seen that merging absorbed (see
// Segmenter). The owner sends changed before deleted. Both are nil when
// nothing was buffered.
func (s *Segmenter) Flush() (changed []stages.Segment, deleted []string) {
	if len(s.pending) == 0 {
		return nil, nil
	}
	s.relative(s.pending)
	lo := len(s.conv) // lowest index touched
	for i := range s.pending {
		var k int
		k, deleted = s.place(s.pending[i], deleted)
		lo = min(lo, k)
	}
	clear(s.pending)
	s.pending = s.pending[:0]

	for i := lo; i < len(s.conv); i++ {
		sp := &s.conv[i]
		if !sp.dirty {
			continue
		}
		if sp.id == "" {
			sp.id = s.newID()
		}
		sp.dirty, sp.sent = false, true
		changed = append(changed, s.export(sp))
	}
	return changed, deleted
}

// place merges p into the conversation and returns the index of the segment
// that holds it, with deleted extended by any absorbed segments' IDs.
func (s *Segmenter) place(p span, deleted []string) (int, []string) {
	p.personID = s.persons[p.speakerID]
	i := len(s.conv) // insert after every segment starting at or before p
	for i > 0 && s.conv[i-1].startMs > p.startMs {
		i--
	}
	k := i
	if i > 0 && s.mergeable(&s.conv[i-1], &p) {
		k = i - 1
		s.conv[k].extend(&p)
	} else {
		p.dirty = true
		s.conv = slices.Insert(s.conv, i, p)
	}
	// A segment that grew or was inserted may now reach the next one.
	for k+1 < len(s.conv) && s.mergeable(&s.conv[k], &s.conv[k+1]) {
		cur, next := &s.conv[k], &s.conv[k+1]
		cur.extend(next)
		if next.sent {
			if cur.sent {
				deleted = append(deleted, next.id)
			} else {
				cur.id, cur.sent = next.id, true
			}
		}
		s.conv = slices.Delete(s.conv, k+1, k+2)
	}
	return k, deleted
}

// extend appends next's text and time span to sp.
func (sp *span) extend(next *span) {
	sp.text += " " + next.text
	sp.endMs = max(sp.endMs, next.endMs)
	sp.endpoint = next.endpoint
	sp.dirty = true
}

// mergeable is Omi's merge rule: same speaker (or both the user), a gap
// under the limit, and prev not yet a finished sentence or next a
// lower-case continuation; and the same person (Assign), so that a merge
// never changes a segment's person. Unpunctuated text that ends at an endpoint is
// a finished sentence once long enough, whatever follows (bare words are
// all lower case: their case says nothing).
func (s *Segmenter) mergeable(prev, next *span) bool {
	sameSpeaker := prev.speakerID == next.speakerID || (prev.isUser && next.isUser)
	if !sameSpeaker || prev.personID != next.personID || prev.provider != next.provider {
		return false
	}
	if next.startMs-prev.endMs >= s.maxGapMs {
		return false
	}
	if prev.endpoint {
		return !s.long(prev.text)
	}
	return !s.finished(prev.text) || startsLower(next.text)
}

// finished reports whether text is a finished sentence: at least
// sentenceChars characters and ending in '.', '?' or '!'.
func (s *Segmenter) finished(text string) bool {
	if text == "" || !strings.ContainsRune(".?!", rune(text[len(text)-1])) {
		return false
	}
	return s.long(text)
}

// long reports whether text has at least sentenceChars characters.
func (s *Segmenter) long(text string) bool {
	return len(text) >= s.sentenceChars && utf8.RuneCountInString(text) >= s.sentenceChars
}

// Segments returns a copy of the conversation so far: every segment
// reported by past Flush calls, in order. Buffered segments are not
// included until the next Flush.
func (s *Segmenter) Segments() []stages.Segment {
	out := make([]stages.Segment, 0, len(s.conv))
	for i := range s.conv {
		out = append(out, s.export(&s.conv[i]))
	}
	return out
}

// export returns the client form of sp.
func (s *Segmenter) export(sp *span) stages.Segment {
	return stages.Segment{
		ID:                     sp.id,
		Text:                   sp.text,
		Speaker:                s.label(sp.speakerID),
		SpeakerID:              sp.speakerID,
		IsUser:                 sp.isUser,
		PersonID:               personRef(sp.personID),
		Start:                  float64(sp.startMs) / 1000,
		End:                    float64(sp.endMs) / 1000,
		Translations:           []stages.Translation{},
		SpeechProfileProcessed: sp.profiled,
		STTProvider:            cmp.Or(sp.provider, s.provider),
	}
}

// relative converts a pending span's capture milliseconds to
// milliseconds since the conversation's origin, which the first call
// sets to the earliest start of what is pending then (the channels of a
// multi-channel session, or late results, need not come in time order);
// a span starting before it (a later, late result) is clamped to 0.
func (s *Segmenter) relative(pending []span) {
	if !s.hasOrigin {
		s.hasOrigin, s.originMs = true, pending[0].startMs
		for _, p := range pending[1:] {
			s.originMs = min(s.originMs, p.startMs)
		}
	}
	for i := range pending {
		p := &pending[i]
		p.startMs = max(p.startMs-s.originMs, 0)
		p.endMs = max(p.endMs-s.originMs, p.startMs)
	}
}

// secToMs rounds seconds to whole milliseconds.
func secToMs(sec float64) int64 { return int64(math.Round(sec * 1000)) }

// wordText is a word's punctuated form, or its bare form if none.
func wordText(w stages.Word) string {
	if w.Punctuated != "" {
		return w.Punctuated
	}
	return w.Word
}

// startsLower reports whether text begins with a lower-case letter.
func startsLower(text string) bool {
	r, _ := utf8.DecodeRuneInString(text)
	return unicode.IsLower(r)
}

// Reset starts a new conversation: the segments, those buffered
// included, and the time origin are forgotten (the next Flush sets a new
// origin); what the Segmenter knows of speakers (their persons, the
// streams' labels, the speech profile) stays, as the session goes on.
func (s *Segmenter) Reset() {
	s.hasOrigin, s.originMs = false, 0
	clear(s.pending)
	s.pending = s.pending[:0]
	s.conv = nil
}

// Origin reports the capture-clock second of the conversation's time 0,
// once a Flush has set it.
func (s *Segmenter) Origin() (sec float64, ok bool) {
	return float64(s.originMs) / 1000, s.hasOrigin
}

// Len reports how many segments the conversation has (buffered ones not
// counted until the next Flush).
func (s *Segmenter) Len() int { return len(s.conv) }
