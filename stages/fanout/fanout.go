package fanout

import (
	"earshot/internal/uuid"
	"earshot/stages"
)

// DefaultFlushIntervalMs is Config.FlushIntervalMs's default.
const DefaultFlushIntervalMs = 600

// Config configures the fan-out stage.
type Config struct {
	// FlushIntervalMs is how long new segments are buffered before they are
	// merged into the conversation and sent (default 600).
	FlushIntervalMs int
	// Segmenter configures segment building and merging.
	Segmenter SegmenterConfig
	// Channels is the number of channels of a multi-channel session (its
	// updates carry their Channel), 0 or 1 for a single-channel one.
	Channels int
	// Profile: a speech-profile session, whose updates come from its main
	// socket and (Temporary) its temporary socket. Speaker 0 of the main
	// socket is the user; EventPrefixDone from the main socket marks the
	// profile processed; the temporary socket's state changes are its own
	// business (the session's are the main socket's).
	Profile bool
	// ConversationTimeoutSec is the silence, in capture-clock seconds
	// after a conversation's last word, that ends it (the session's
	// conversation_timeout): 0 means DefaultConversationTimeoutSec (120),
	// a negative value ForeverConversationTimeoutSec (4 h), and values
	// under 120 are raised to 120.
	ConversationTimeoutSec int
	// ConversationCheckMs is how often, in wall-clock milliseconds, an
	// open conversation's silence is checked against the capture clock
	// (default 500). Speech after a long silence ends the conversation at
	// once whatever the check's period.
	ConversationCheckMs int
}

// Deps are the fan-out's runtime dependencies.
type Deps struct {
	// Provider is the Name of the provider whose words the segments carry.
	Provider string
	// Metrics are the server's fan-out metrics (required).
	Metrics *Metrics
	// CaptureSec, if not nil, reports the capture clock: the seconds of
	// audio the session has taken in so far. Without it a conversation
	// ends only when speech comes after a long enough silence, or when
	// the session ends. It is called from the fan-out's goroutine and
	// must be safe for that (an atomic read).
	CaptureSec func() float64
	// NewID makes segment and conversation IDs; nil means random UUIDs.
	NewID func() string
}

// Sink is where the fan-out delivers Messages: an Outbox, or a sink with
// a buffer of its own (the pusher). Push never blocks and reports whether
// the message was kept (a discarded one is counted by the fan-out);
// Close, called once when the fan-out returns, says no message will come
// any more. Only the fan-out calls them, from one goroutine.
type Sink interface {
	Name() string
	Push(stages.Message) bool
	Close()
}

var _ Sink = (*Outbox[stages.Message])(nil)

// Fanout turns connector Updates into Messages for every sink: it builds
// segments from final results, merges them into the conversation every
// FlushIntervalMs, splits the session's speech into conversations, and
// passes upstream state changes on (a neutral event; what a client is
// told is its sink's choice). In a multi-channel session
// (Config.Channels > 1) the channels' updates come in one stream, each
// with its Channel: a channel is its segments' speaker (see
// Segmenter.AddChannel) and the channels' states are folded into the
// session's (one ready; a channel failing for good only degrades the
// session until the last one fails).
//
// Conversations: a conversation starts with its first segments (a
// Message with Conversation Started comes before them; its time 0 is its
// first word) and ends when the silence after its last word reaches
// ConversationTimeoutSec on the capture clock: when later speech shows
// it, or when a periodic check of Deps.CaptureSec does (not while an
// upstream is degraded, as its words may still come). The session's
// last conversation ends when its input ends (the client left) or its
// upstream failed, before EventFailed. Every segment message carries its
// conversation's ID.
//
// It never blocks on a sink: each has a bounded buffer with its own
// overflow policy.
type Fanout struct {
	cfg  Config
	deps Deps
	m    *Metrics
}

// New returns a fan-out stage.
func New(cfg Config, deps Deps) *Fanout {
	stages.Default(&cfg.FlushIntervalMs, DefaultFlushIntervalMs)
	stages.Default(&cfg.ConversationCheckMs, DefaultConversationCheckMs)
	if deps.NewID == nil {
		deps.NewID = uuid.New
	}
	return &Fanout{cfg: cfg, deps: deps, m: deps.Metrics}
}
