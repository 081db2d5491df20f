package fanout

import (
	"fmt"
	"strconv"

	"earshot/stages"
)

// streamLabel is a diarization label of one upstream stream.
type streamLabel struct {
	stream, label int
}

// speakerOf is the session's speaker id for the diarization label of
// upstream stream stream (stages.Result.Stream), and whether it is the
// user. A stream's diarization starts over, so the labels of a stream
// after the first are scoped to it: each gets an id of its own, never one
// of an earlier stream, so that a new stream's speaker 0 never merges
// with the old stream's speaker 0 (Omi scopes them per provider epoch).
// The first stream's labels (and those of results without a stream
// number) are the ids.
//
// In a speech-profile session (UseProfile) the session knows who speaker
// 0 of the main socket is on every stream, since each stream heard the
// profile first: id 0, the user. Every other label, and every label of
// the temporary socket (temporary), gets an id of its own.
func (s *Segmenter) speakerOf(stream, label int, temporary bool) (id int, user bool) {
	switch {
	case s.profile && !temporary && label == 0:
		return 0, true
	case !s.profile && stream <= 1:
		s.nextSpeaker = max(s.nextSpeaker, label+1)
		return label, false
	}
	k := streamLabel{stream, label}
	if temporary {
		k.stream = -1 - stream // the temporary socket's own namespace
	}
	if id, ok := s.scoped[k]; ok {
		return id, false
	}
	if s.scoped == nil {
		s.scoped = make(map[streamLabel]int)
	}
	id = s.nextSpeaker
	s.nextSpeaker++
	s.scoped[k] = id
	return id, false
}

// UseProfile makes the Segmenter serve a speech-profile session (see
// speakerOf): speaker id 0 is the user's, from the main socket. Call it
// before any Add.
func (s *Segmenter) UseProfile() {
	s.profile = true
	s.nextSpeaker = max(s.nextSpeaker, 1)
}

// ProfileProcessed records that the main socket has worked through the
// profile: the main socket's segments added from then on carry
// speech_profile_processed.
func (s *Segmenter) ProfileProcessed() { s.processed = true }

// AddTemporary buffers a final result of a speech-profile session's
// temporary socket, which carries the live audio while the main socket
// works through the profile: its speakers are its own (none is the user)
// and its segments are not speech-profile processed. Otherwise as Add.
func (s *Segmenter) AddTemporary(r stages.Result) { s.add(r, true) }

// AddChannel buffers the words of one final result of channel ch of a
// multi-channel session (1-based, as on the wire): the channel is the
// speaker, whatever the provider's diarization said and on every stream
// of it: channel 1 (the user's microphone) is speaker 0 with is_user,
// channel 2 speaker 1, channel n speaker n-1. Its segments' labels are
// zero-padded, "SPEAKER_00", as Omi's multi-channel sessions send them.
// Otherwise as Add. A Segmenter takes either Add or AddChannel results,
// not both.
func (s *Segmenter) AddChannel(ch int, r stages.Result) {
	if !r.IsFinal || ch < 1 {
		return
	}
	s.channels = true
	s.addRun(r.Words, ch-1, ch == 1, false, r.SpeechFinal, r.Provider)
}

// label is the speaker field of speaker id: "SPEAKER_<n>", n not
// zero-padded, or zero-padded to two digits in a multi-channel session.
func (s *Segmenter) label(id int) string {
	if s.channels {
		return fmt.Sprintf("SPEAKER_%02d", id)
	}
	return "SPEAKER_" + strconv.Itoa(id)
}
