package pipeline

import (
	"encoding/json"
	"slices"

	"earshot/protocol"
	"earshot/stages"
)

// Kinds of client text messages, the label set of
// earshot_client_messages_total{type}: the Omi app's types, "auth" (the
// browser's first message), and three for what is not one of them.
const (
	controlSpeakerAssigned     = "speaker_assigned"
	controlImageChunk          = "image_chunk"
	controlSuggestedTranscript = "suggested_transcript"
	controlSkipQuestion        = "skip_question"
	controlClientState         = "client_state"
	// controlOther: JSON with a type the gateway does not know.
	controlOther = "other"
	// controlMalformed: not JSON, no type, or a known type whose fields
	// do not parse.
	controlMalformed = "malformed"
	// controlTooLarge: over Config.TextLimitBytes, not parsed.
	controlTooLarge = "too_large"
)

// controlKinds is every label of earshot_client_messages_total.
var controlKinds = []string{
	controlSpeakerAssigned, controlImageChunk, controlSuggestedTranscript, controlSkipQuestion,
	controlClientState, protocol.TypeAuth, controlOther, controlMalformed, controlTooLarge,
}

// Bounds of a speaker_assigned message.
const (
	maxSpeakerID        = 1 << 10
	maxPersonIDBytes    = 256
	maxAssignedSegments = 4096
)

// speakerAssigned is Omi's speaker_assigned message. person_name is the
// app's to show; the gateway neither keeps nor logs it.
type speakerAssigned struct {
	SpeakerID  *int     `json:"speaker_id"`
	PersonID   *string  `json:"person_id"`
	SegmentIDs []string `json:"segment_ids"`
}

// control handles a text frame from the client: a valid speaker_assigned
// message is passed to the fan-out on assign without blocking (when the
// channel is full it is dropped, counted in
// earshot_speaker_assignments_dropped_total); every other type, non-JSON
// text and oversized messages are ignored. Every message is counted by
// kind in earshot_client_messages_total. The session always goes on.
func (s *session) control(data []byte, assign chan<- stages.SpeakerAssignment) {
	m := s.srv.m
	if len(data) > s.srv.cfg.TextLimitBytes {
		m.controlMessage(controlTooLarge)
		return
	}
	var msg struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &msg); err != nil || msg.Type == "" {
		m.controlMessage(controlMalformed)
		s.log.Debug("ignored text frame that is not a control message", "bytes", len(data))
		return
	}
	if !slices.Contains(controlKinds, msg.Type) || msg.Type == protocol.TypeAuth {
		m.controlMessage(controlOther)
		return
	}
	if msg.Type != controlSpeakerAssigned {
		m.controlMessage(msg.Type)
		return
	}
	a, ok := parseSpeakerAssigned(data)
	if !ok {
		m.controlMessage(controlMalformed)
		return
	}
	m.controlMessage(controlSpeakerAssigned)
	select {
	case assign <- a:
	default:
		m.assignDropped.Inc()
		s.log.Warn("speaker assignment dropped: the fan-out is behind")
	}
}

// parseSpeakerAssigned validates a speaker_assigned message: a speaker id
// in [0, 1024), a person id (empty clears the speaker's person) of at most
// 256 bytes, at most 4096 segment ids.
func parseSpeakerAssigned(data []byte) (stages.SpeakerAssignment, bool) {
	var sa speakerAssigned
	if err := json.Unmarshal(data, &sa); err != nil || sa.SpeakerID == nil {
		return stages.SpeakerAssignment{}, false
	}
	person := ""
	if sa.PersonID != nil {
		person = *sa.PersonID
	}
	if *sa.SpeakerID < 0 || *sa.SpeakerID >= maxSpeakerID || len(person) > maxPersonIDBytes ||
		len(sa.SegmentIDs) > maxAssignedSegments {
		return stages.SpeakerAssignment{}, false
	}
	return stages.SpeakerAssignment{SpeakerID: *sa.SpeakerID, PersonID: person, SegmentIDs: sa.SegmentIDs}, true
}
