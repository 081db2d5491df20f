package stages

// Segment is one transcript segment as the client protocol sends it
// (spec/listen-protocol.md). A segment already sent can be sent again with
// the same ID and longer text; clients upsert by ID.
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
	// PersonID names a known person, or is nil.
	PersonID *string `json:"person_id"`
	// Start and End are seconds since the conversation's first speech, on
	// the capture clock.
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	// Translations is always a list (empty when there are none).
	Translations []Translation `json:"translations"`
	// SpeechProfileProcessed tells whether speech-profile matching ran.
	SpeechProfileProcessed bool `json:"speech_profile_processed"`
	// STTProvider is the Provider's Name.
	STTProvider string `json:"stt_provider"`
}

// Translation is one translation of a segment's text.
type Translation struct {
	Lang string `json:"lang"`
	Text string `json:"text"`
}

// EventKind tells what an Update from the connector carries.
type EventKind int

const (
	// EventResult carries a transcript Result on the capture clock.
	EventResult EventKind = iota + 1
	// EventConnecting: the connector is dialing the upstream.
	EventConnecting
	// EventConnected: an upstream stream is open.
	EventConnected
	// EventDegraded: the upstream is down; the connector is retrying.
	EventDegraded
	// EventRecovered: the upstream is back after EventDegraded.
	EventRecovered
	// EventFailed: the connector gave up (permanent error or attempts
	// exhausted). Reason says why; no more results will come.
	EventFailed
)

// Update is what the connector stage sends downstream: a transcript result
// whose times are capture-clock seconds, or a change of upstream state.
type Update struct {
	Kind EventKind
	// Result is set for EventResult; its times are capture-clock seconds
	// since the session's first audio frame.
	Result Result
	// Reason is a short, client-safe reason for the state events.
	Reason string
	// CloseCode, for EventFailed, is the WebSocket close code the client
	// should get: CloseTryAgainLater when the upstream was at capacity,
	// else CloseInternalError.
	CloseCode int
}

// CloseTryAgainLater is the WebSocket close code for "try again later"
// (the upstream has no capacity for this session now).
const CloseTryAgainLater = 1013
