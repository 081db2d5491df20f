package protocol

// Types of the server's JSON text events.
const (
	// TypeServiceStatus: Status (and StatusText) changed.
	TypeServiceStatus = "service_status"
	// TypeSegmentsDeleted: the segments SegmentIDs were merged into
	// others; the client drops them.
	TypeSegmentsDeleted = "segments_deleted"
)

// Service status values, in the order a session sees them: initiating,
// conversations processing, STT initiating, ready; then degraded and
// recovered around an upstream outage.
const (
	StatusInitiating              = "initiating"
	StatusConversationsProcessing = "in_progress_conversations_processing"
	StatusSTTInitiating           = "stt_initiating"
	StatusReady                   = "ready"
	StatusSTTDegraded             = "stt_degraded"
	StatusSTTRecovered            = "stt_recovered"
)

// Event is a server text event: a JSON object with a type. Fields that do
// not belong to the type are empty and left out of the JSON.
type Event struct {
	// Type is TypeServiceStatus or TypeSegmentsDeleted (clients ignore
	// types they do not know).
	Type string `json:"type"`
	// Status and StatusText, for TypeServiceStatus; StatusText is a
	// human-readable text, absent when empty.
	Status     string `json:"status,omitempty"`
	StatusText string `json:"status_text,omitempty"`
	// SegmentIDs, for TypeSegmentsDeleted.
	SegmentIDs []string `json:"segment_ids,omitempty"`
}

// ServiceStatus is the service_status event for status and text.
func ServiceStatus(status, text string) Event {
	return Event{Type: TypeServiceStatus, Status: status, StatusText: text}
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
