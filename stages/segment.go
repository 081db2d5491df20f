package stages

// Segment is one transcript segment of a conversation, as the fan-out
// builds it from final results. A segment already sent can be sent again
// with the same ID and longer text; sinks upsert by ID. Each sink encodes
// it for its own protocol (package protocol for the client's).
type Segment struct {
	// ID is a random UUID (version 4) string.
	ID string
	// Text is the words' punctuated forms joined by single spaces.
	Text string
	// Speaker is "SPEAKER_<n>" with n = SpeakerID, not zero-padded.
	Speaker string
	// SpeakerID is the diarized speaker index.
	SpeakerID int
	// IsUser marks the device owner's speech.
	IsUser bool
	// PersonID names a known person, or is nil.
	PersonID *string
	// Start and End are seconds since the conversation's first speech, on
	// the capture clock.
	Start, End float64
	// Translations of Text (none yet: empty).
	Translations []Translation
	// SpeechProfileProcessed tells whether speech-profile matching ran.
	SpeechProfileProcessed bool
	// STTProvider is the Name of the Provider that produced the words.
	STTProvider string
}

// Translation is one translation of a segment's text.
type Translation struct {
	// Lang is the language code of Text.
	Lang string
	// Text is the translated text.
	Text string
}
