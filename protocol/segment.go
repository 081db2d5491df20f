package protocol

// Segment is one transcript segment as the server sends it, in a bare
// JSON array of the segments that changed. A segment already sent can be
// sent again with the same ID and longer text; clients upsert by ID.
//
// The field order is the wire order (encoding/json keeps it).
type Segment struct {
	// ID is a random UUID (version 4) string.
	ID string `json:"id"`
	// Text is the words' punctuated forms joined by single spaces.
	Text string `json:"text"`
	// Speaker is "SPEAKER_<n>" with n = SpeakerID, not zero-padded.
	Speaker string `json:"speaker"`
	// SpeakerID is the diarized speaker index.
	SpeakerID int `json:"speaker_id"`
	// IsUser marks the device owner's speech.
	IsUser bool `json:"is_user"`
	// PersonID names a known person, or is null.
	PersonID *string `json:"person_id"`
	// Start and End are seconds since the conversation's first speech.
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	// Translations is always a list (empty when there are none), never
	// null.
	Translations []Translation `json:"translations"`
	// SpeechProfileProcessed tells whether speech-profile matching ran.
	SpeechProfileProcessed bool `json:"speech_profile_processed"`
	// STTProvider names the speech-to-text provider ("deepgram", "local").
	STTProvider string `json:"stt_provider"`
}

// Translation is one translation of a segment's text.
type Translation struct {
	Lang string `json:"lang"`
	Text string `json:"text"`
}
