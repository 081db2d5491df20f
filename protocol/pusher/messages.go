package pusher

import "encoding/json"

// Segments is the payload of a KindSegments frame: segment objects in the
// client protocol's JSON shape (upserted by their "id") and the id of the
// conversation they belong to.
type Segments struct {
	Segments []json.RawMessage `json:"segments"`
	MemoryID string            `json:"memory_id"`
}

// Process is the payload of a KindProcess frame: process the finished
// conversation ConversationID, transcribed in Language.
type Process struct {
	ConversationID string `json:"conversation_id"`
	Language       string `json:"language"`
}

// SpeakerSamples is the payload of a KindSpeakerSamples frame: the
// segments SegmentIDs of conversation ConversationID are person
// PersonID's speech; extract samples of their voice.
type SpeakerSamples struct {
	PersonID       string   `json:"person_id"`
	ConversationID string   `json:"conversation_id"`
	SegmentIDs     []string `json:"segment_ids"`
}

// Result is the payload of a KindResult frame: the answer to the
// KindProcess of ConversationID, Success or an Error text.
type Result struct {
	ConversationID string `json:"conversation_id"`
	Success        bool   `json:"success,omitempty"`
	Error          string `json:"error,omitempty"`
}
