package stages

import (
	"context"
	"time"
)

// Message is what the fan-out hands every sink. Each sink encodes it for
// its own protocol. Exactly one of its groups is set: segment changes, a
// service status, or a request to end the session.
type Message struct {
	// Segments changed (new or grown); clients upsert by ID.
	Segments []Segment
	// Deleted lists IDs of segments removed by merging.
	Deleted []string
	// Status is a service_status value ("ready", "stt_degraded", ...) and
	// StatusText its human-readable text.
	Status, StatusText string
	// CloseCode, when not 0, asks the sink to end the session with this
	// WebSocket close code and CloseReason.
	CloseCode   int
	CloseReason string
}

// Service status values sent to clients (spec/listen-protocol.md).
const (
	StatusInitiating              = "initiating"
	StatusConversationsProcessing = "in_progress_conversations_processing"
	StatusSTTInitiating           = "stt_initiating"
	StatusReady                   = "ready"
	StatusSTTDegraded             = "stt_degraded"
	StatusSTTRecovered            = "stt_recovered"
)

// DefaultFlushIntervalMs is FanoutConfig.FlushIntervalMs's default.
const DefaultFlushIntervalMs = 600

// CloseInternalError is the WebSocket close code for an internal or setup
// failure, such as an upstream that cannot be reached.
const CloseInternalError = 1011

// FanoutConfig configures the fan-out stage.
type FanoutConfig struct {
	// FlushIntervalMs is how long new segments are buffered before they are
	// merged into the conversation and sent (default 600).
	FlushIntervalMs int
	// Segmenter configures segment building and merging.
	Segmenter SegmenterConfig
}

// Fanout turns connector Updates into Messages for every sink: it builds
// segments from final results, merges them into the conversation every
// FlushIntervalMs, and turns upstream state changes into service statuses.
// It never blocks on a sink: each has a bounded Outbox with its own
// overflow policy.
type Fanout struct {
	cfg      FanoutConfig
	provider string
	m        *FanoutMetrics
}

// NewFanout returns a fan-out stage for segments from providerName.
func NewFanout(cfg FanoutConfig, providerName string, m *FanoutMetrics) *Fanout {
	if cfg.FlushIntervalMs <= 0 {
		cfg.FlushIntervalMs = DefaultFlushIntervalMs
	}
	return &Fanout{cfg: cfg, provider: providerName, m: m}
}

// Run reads Updates from in until it is closed (then flushes what is
// buffered and returns nil) or ctx is done (returns ctx's cause). It is the
// writer of every sink's Outbox and closes them all on return.
func (f *Fanout) Run(ctx context.Context, in <-chan Update, sinks []*Outbox[Message]) error {
	defer func() {
		for _, s := range sinks {
			s.Close()
		}
	}()
	push := func(m Message) {
		for _, s := range sinks {
			if !s.Push(m) {
				f.m.dropped(s.Name()).Inc()
			}
		}
	}
	seg := NewSegmenter(f.cfg.Segmenter, f.provider, nil)
	flush := func() {
		changed, deleted := seg.Flush()
		if len(changed) > 0 || len(deleted) > 0 {
			f.m.Segments.Add(len(changed))
			push(Message{Segments: changed, Deleted: deleted})
		}
	}
	push(Message{Status: StatusInitiating, StatusText: "Service Starting"})
	push(Message{Status: StatusConversationsProcessing, StatusText: "Processing Conversations"})

	interval := time.Duration(f.cfg.FlushIntervalMs) * time.Millisecond
	timer := time.NewTimer(interval)
	timer.Stop()
	defer timer.Stop()
	armed := false
	for {
		select {
		case u, ok := <-in:
			if !ok {
				flush()
				return nil
			}
			if u.Kind == EventResult {
				if u.Result.IsFinal && len(u.Result.Words) > 0 {
					seg.Add(u.Result)
					if !armed {
						timer.Reset(interval)
						armed = true
					}
				}
				continue
			}
			if m, ok := statusMessage(u); ok {
				if m.CloseCode != 0 {
					flush()
				}
				push(m)
			}
		case <-timer.C:
			armed = false
			flush()
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// statusMessage maps an upstream state change to what clients see.
func statusMessage(u Update) (Message, bool) {
	switch u.Kind {
	case EventConnecting:
		return Message{Status: StatusSTTInitiating, StatusText: "STT Service Starting"}, true
	case EventConnected:
		return Message{Status: StatusReady}, true
	case EventDegraded:
		return Message{Status: StatusSTTDegraded, StatusText: u.Reason}, true
	case EventRecovered:
		return Message{Status: StatusSTTRecovered}, true
	case EventFailed:
		r := "speech-to-text unavailable"
		if u.Reason != "" {
			r = "stt failed: " + u.Reason
		}
		code := u.CloseCode
		if code == 0 {
			code = CloseInternalError
		}
		return Message{CloseCode: code, CloseReason: r}, true
	}
	return Message{}, false
}
