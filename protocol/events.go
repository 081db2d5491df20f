package protocol

import "encoding/json"

// Types of the server's JSON text events.
const (
	// TypeServiceStatus: Status (and StatusText) changed.
	TypeServiceStatus = "service_status"
	// TypeSegmentsDeleted: the segments SegmentIDs were merged into
	// others; the client drops them.
	TypeSegmentsDeleted = "segments_deleted"
	// TypeConversationSession: a conversation started (ConversationID,
	// Status ConversationInProgress); the segments that follow belong to
	// it, their times counted from its first speech.
	TypeConversationSession = "conversation_session"
	// TypeMemoryProcessingStarted: the conversation ConversationID ended
	// (its silence reached conversation_timeout) and is being processed;
	// the next segments start a new segment list. Memory carries the
	// conversation's id and status.
	TypeMemoryProcessingStarted = "memory_processing_started"
)

// Statuses of a conversation, on conversation_session and in a
// memory_processing_started's memory.
const (
	ConversationInProgress = "in_progress"
	ConversationProcessing = "processing"
)

// Service status values, in the order a session sees them: initiating,
// conversations processing, STT initiating, ready; then degraded and
// recovered around an upstream outage.
const (
	StatusInitiating              = "initiating"
	StatusConversationsProcessing = "in_progress_conversations_processing"
	StatusSTTInitiating           = "stt_initiating"
	StatusReady                   = "ready"
	// StatusSTTDegraded and StatusSTTRecovered are earshot's additions
	// (Omi never shipped them; an app ignores statuses it does not know):
	// the upstream is down and being retried, with the audio held; and it
	// is back.
	StatusSTTDegraded  = "stt_degraded"
	StatusSTTRecovered = "stt_recovered"
	// StatusSTTFailed is Omi's terminal status: the upstream failed for
	// good; the server closes the session right after it (1011 with
	// CloseReasonSTTUnavailable, or 1013 when the upstream had no room).
	StatusSTTFailed = "stt_failed"
)

// Values of an stt_failed event's Outcome (Omi's outcome vocabulary).
const (
	// OutcomeUpstreamError: the provider could not serve the stream
	// (unreachable, failing, or at capacity); retrying later may work.
	OutcomeUpstreamError = "upstream_error"
	// OutcomeConfigError: the provider refused the gateway's request for
	// good (credentials, credit, parameters); retrying will not help
	// until an operator acts.
	OutcomeConfigError = "config_error"
)

// Values of an stt_failed event's Reason (Omi's bounded reasons).
const (
	// FailedInitialization: no upstream stream ever opened in the session.
	FailedInitialization = "initialization_failed"
	// FailedConnectionLost: a stream was open, was lost, and could not be
	// replaced.
	FailedConnectionLost = "connection_lost"
)

// Event is a server text event: a JSON object with a type. Fields that do
// not belong to the type are empty and left out of the JSON.
type Event struct {
	// Type is one of the Type constants (clients ignore types they do
	// not know).
	Type string `json:"type"`
	// Status and StatusText, for TypeServiceStatus (Status also for
	// TypeConversationSession); StatusText is a human-readable text,
	// absent when empty.
	Status     string `json:"status,omitempty"`
	StatusText string `json:"status_text,omitempty"`
	// SegmentIDs, for TypeSegmentsDeleted.
	SegmentIDs []string `json:"segment_ids,omitempty"`
	// ConversationID, for TypeConversationSession and
	// TypeMemoryProcessingStarted.
	ConversationID string `json:"conversation_id,omitempty"`
	// Memory, for TypeMemoryProcessingStarted: the conversation.
	Memory *Memory `json:"memory,omitempty"`
	// Provider names the speech-to-text provider a ready, stt_degraded,
	// stt_recovered or stt_failed status is about ("deepgram", "local").
	Provider string `json:"provider,omitempty"`
	// Channel, on stt_degraded and stt_recovered in a multi-channel
	// session, is the 1-based channel whose upstream it is about (an
	// earshot addition; absent for the whole session).
	Channel int `json:"channel,omitempty"`
	// Reason: on stt_failed, FailedInitialization or FailedConnectionLost;
	// on ready, "fallback_from_<provider>" when a fallback serves.
	Reason string `json:"reason,omitempty"`
	// Outcome, Retryable and RetryAfterSec, for stt_failed: the outcome
	// (OutcomeUpstreamError, OutcomeConfigError), whether the same
	// request may succeed later, and the seconds the provider asked to
	// wait (nil when it named none). An stt_failed event always carries
	// retryable and retry_after (null when nil); other events leave them
	// out.
	Outcome       string `json:"outcome,omitempty"`
	Retryable     *bool  `json:"retryable,omitempty"`
	RetryAfterSec *int   `json:"retry_after,omitempty"`
}

// MarshalJSON renders e, with retryable and retry_after always present
// on an stt_failed event.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	if e.Status != StatusSTTFailed {
		return json.Marshal(plain(e))
	}
	retryable := e.Retryable != nil && *e.Retryable
	return json.Marshal(struct {
		plain
		Retryable     bool `json:"retryable"`
		RetryAfterSec *int `json:"retry_after"`
	}{plain(e), retryable, e.RetryAfterSec})
}

// STTFailed is the stt_failed service_status for a provider that failed
// for good: outcome and reason from the constants above, text a
// human-readable status_text, retryAfterSec the provider's requested wait
// (nil if none).
func STTFailed(provider, outcome, reason, text string, retryable bool, retryAfterSec *int) Event {
	return Event{
		Type: TypeServiceStatus, Status: StatusSTTFailed, StatusText: text, Provider: provider,
		Reason: reason, Outcome: outcome, Retryable: &retryable, RetryAfterSec: retryAfterSec,
	}
}

// ServiceStatus is the service_status event for status and text.
func ServiceStatus(status, text string) Event {
	return Event{Type: TypeServiceStatus, Status: status, StatusText: text}
}

// Memory is the conversation a memory_processing_started is about.
type Memory struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// ConversationSession is the conversation_session event of conversation
// id starting.
func ConversationSession(id string) Event {
	return Event{Type: TypeConversationSession, ConversationID: id, Status: ConversationInProgress}
}

// MemoryProcessingStarted is the memory_processing_started event of
// conversation id ending.
func MemoryProcessingStarted(id string) Event {
	return Event{Type: TypeMemoryProcessingStarted, ConversationID: id, Memory: &Memory{ID: id, Status: ConversationProcessing}}
}

// SegmentsDeleted is the segments_deleted event for ids.
func SegmentsDeleted(ids []string) Event {
	return Event{Type: TypeSegmentsDeleted, SegmentIDs: ids}
}

// Ping is the text frame the server sends every 10 s; PingAnswer is the
// binary frame the app answers it with (the gateway's ingest ignores
// binary frames that short: ingest.MinAudioFrameBytes). Neither is to be
// modified.
var (
	Ping       = []byte("ping")
	PingAnswer = []byte{0x8A, 0x00}
)
