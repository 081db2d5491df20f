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
// upstream stream stream (stages.Result.Stream). A stream's diarization
// starts over, so the labels of a stream after the first are scoped to
// it: each gets an id of its own, never one of an earlier stream, so that
// a new stream's speaker 0 never merges with the old stream's speaker 0
// (Omi scopes them per provider epoch). The first stream's labels (and
// those of results without a stream number) are the ids.
func (s *Segmenter) speakerOf(stream, label int) int {
	if stream <= 1 {
		s.nextSpeaker = max(s.nextSpeaker, label+1)
		return label
	}
	k := streamLabel{stream, label}
	if id, ok := s.scoped[k]; ok {
		return id
	}
	if s.scoped == nil {
		s.scoped = make(map[streamLabel]int)
	}
	id := s.nextSpeaker
	s.nextSpeaker++
	s.scoped[k] = id
	return id
}

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
	s.addRun(r.Words, ch-1, ch == 1, r.SpeechFinal)
}

// label is the speaker field of speaker id: "SPEAKER_<n>", n not
// zero-padded, or zero-padded to two digits in a multi-channel session.
func (s *Segmenter) label(id int) string {
	if s.channels {
		return fmt.Sprintf("SPEAKER_%02d", id)
	}
	return "SPEAKER_" + strconv.Itoa(id)
}
