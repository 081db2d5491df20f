package fanout

import (
	"context"
	"time"

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
}

// Fanout turns connector Updates into Messages for every sink: it builds
// segments from final results, merges them into the conversation every
// FlushIntervalMs, and passes upstream state changes on (a neutral event;
// what a client is told is its sink's choice).
// It never blocks on a sink: each has a bounded Outbox with its own
// overflow policy.
type Fanout struct {
	cfg      Config
	provider string
	m        *Metrics
}

// New returns a fan-out stage for segments from providerName.
func New(cfg Config, providerName string, m *Metrics) *Fanout {
	stages.Default(&cfg.FlushIntervalMs, DefaultFlushIntervalMs)
	return &Fanout{cfg: cfg, provider: providerName, m: m}
}

// Run reads Updates from in until it is closed (then flushes what is
// buffered and returns nil) or ctx is done (returns ctx's cause). It is the
// writer of every sink's Outbox and closes them all on return.
func (f *Fanout) Run(ctx context.Context, in <-chan stages.Update, sinks []*Outbox[stages.Message]) error {
	defer func() {
		for _, s := range sinks {
			s.Close()
		}
	}()
	push := func(m stages.Message) {
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
			push(stages.Message{Segments: changed, Deleted: deleted})
		}
	}

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
			if u.Kind == stages.EventResult {
				if u.Result.IsFinal && len(u.Result.Words) > 0 {
					seg.Add(u.Result)
					if !armed {
						timer.Reset(interval)
						armed = true
					}
				}
				continue
			}
			if u.Kind == stages.EventFailed {
				flush() // the last segments before the session ends
			}
			push(stages.Message{Event: u.Kind, Reason: u.Reason, Failure: u.Failure})
		case <-timer.C:
			armed = false
			flush()
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}
