package stages

import "time"

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
	// EventFailed: the connector gave up (see Failure). Reason says why;
	// no more results will come.
	EventFailed
	// EventPrefixDone: the upstream has worked through the prefix the
	// connector sends at the start of a stream (a speech profile): a
	// result reached past it. Sent once per stream that had a prefix.
	EventPrefixDone
)

// String names the kind, for logs.
func (k EventKind) String() string {
	switch k {
	case EventResult:
		return "result"
	case EventConnecting:
		return "connecting"
	case EventConnected:
		return "connected"
	case EventDegraded:
		return "degraded"
	case EventRecovered:
		return "recovered"
	case EventFailed:
		return "failed"
	case EventPrefixDone:
		return "prefix_done"
	default:
		return "EventKind(?)"
	}
}

// Failure says why a connector gave up on its upstream (EventFailed). It is
// a neutral outcome: what a client is told (a close code, a status) is the
// pipeline's choice.
type Failure int

const (
	// FailureUnavailable: the upstream could not be reached (the attempts
	// ran out on retryable errors). The zero Failure of an EventFailed
	// means the same.
	FailureUnavailable Failure = iota + 1
	// FailurePermanent: the upstream refused for a reason retrying cannot
	// fix (bad parameters or credentials, no credit, close 1008).
	FailurePermanent
	// FailureCapacity: the upstream had no room for the stream
	// (ErrCapacity); the same request may succeed later.
	FailureCapacity
)

// String names the failure, for logs and metric labels.
func (f Failure) String() string {
	switch f {
	case FailurePermanent:
		return "permanent"
	case FailureCapacity:
		return "capacity"
	default:
		return "unavailable"
	}
}

// ReasonFailback is the Reason of an EventRecovered that says a session
// moved back to an earlier provider of its chain once that one was
// healthy again (its Provider). A failover's EventRecovered has the
// Reason "fallback_from_<provider>".
const ReasonFailback = "failback"

// Update is what the connector stage sends downstream: a transcript result
// whose times are capture-clock seconds, or a change of upstream state.
type Update struct {
	Kind EventKind
	// Result is set for EventResult; its times are capture-clock seconds
	// since the session's first audio frame.
	Result Result
	// Reason is a short, client-safe reason for the state events.
	Reason string
	// Failure, for EventFailed, says why the connector gave up.
	Failure Failure
	// Provider is the Name of the provider the state event is about
	// (every kind but EventResult).
	Provider string
	// RetryAfter, for EventFailed, is the wait the provider asked for
	// before trying again (Retry-After), 0 if it named none.
	RetryAfter time.Duration
	// WasConnected, for EventFailed, tells whether an upstream stream had
	// been open in this session (the connection was lost) or none ever
	// opened (initialization failed).
	WasConnected bool
	// Channel is the 1-based channel of a multi-channel session whose
	// connector sent the update, 0 in a single-channel session. The
	// connector leaves it 0; the pipeline's fan-in of the channels sets it.
	Channel int
	// Temporary marks an update of a speech-profile session's temporary
	// socket (set by the pipeline's fan-in, like Channel).
	Temporary bool
}

// Message is what the fan-out hands every sink; each sink encodes it for
// its own protocol. Either Segments/Deleted are set (the conversation
// changed) or Event is (the upstream's state changed).
type Message struct {
	// Segments changed (new or grown); sinks upsert by ID.
	Segments []Segment
	// Deleted lists IDs of segments removed by merging.
	Deleted []string
	// Event is an upstream state change (EventConnecting through
	// EventFailed), 0 on a segment message; Reason and Failure are the
	// Update's. After EventFailed no more messages come.
	Event   EventKind
	Reason  string
	Failure Failure
	// Provider, RetryAfter, WasConnected and Channel are the Update's, on
	// an Event message (Channel: the channel the event is about, 0 for the
	// whole session).
	Provider     string
	RetryAfter   time.Duration
	WasConnected bool
	Channel      int
	// ConversationID, on a segment message, is the conversation the
	// segments belong to.
	ConversationID string
	// Conversation, when not nil, is a conversation starting or ending
	// (and nothing else is set but ConversationID).
	Conversation *Conversation
	// Assignment, when not nil, is the speaker assignment that made this
	// message's Segments (possibly none) be sent again, for sinks that
	// pass assignments on.
	Assignment *SpeakerAssignment
}

// ConversationChange says what a Conversation message is about.
type ConversationChange int

const (
	// ConversationStarted: the session's next conversation began at its
	// first speech.
	ConversationStarted ConversationChange = iota + 1
	// ConversationEnded: the conversation is over (its silence reached
	// the session's conversation timeout, or the session ended) and is to
	// be processed; no segment of it follows.
	ConversationEnded
)

// Conversation is the start or end of one of a session's conversations:
// the spans of its speech between silences longer than the conversation
// timeout, on the capture clock.
type Conversation struct {
	Change ConversationChange
	// ID is the conversation's id (a UUID).
	ID string
	// StartSec is the capture-clock second of the conversation's first
	// speech: its segments' time 0.
	StartSec float64
	// EndSec, on ConversationEnded, is the capture-clock second where the
	// conversation ended: its last speech plus the timeout, or where the
	// session's audio ended if that came first.
	EndSec float64
	// Segments, on ConversationEnded, is how many segments it has.
	Segments int
}

// StateMessage is the Message that carries the state event u (any kind
// but EventResult) to the sinks.
func StateMessage(u Update) Message {
	return Message{
		Event: u.Kind, Reason: u.Reason, Failure: u.Failure,
		Provider: u.Provider, RetryAfter: u.RetryAfter, WasConnected: u.WasConnected, Channel: u.Channel,
	}
}
