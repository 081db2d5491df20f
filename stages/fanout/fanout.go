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
	// Channels is the number of channels of a multi-channel session (its
	// updates carry their Channel), 0 or 1 for a single-channel one.
	Channels int
	// Profile: a speech-profile session, whose updates come from its main
	// socket and (Temporary) its temporary socket. Speaker 0 of the main
	// socket is the user; EventPrefixDone from the main socket marks the
	// profile processed; the temporary socket's state changes are its own
	// business (the session's are the main socket's).
	Profile bool
}

// Fanout turns connector Updates into Messages for every sink: it builds
// segments from final results, merges them into the conversation every
// FlushIntervalMs, and passes upstream state changes on (a neutral event;
// what a client is told is its sink's choice). In a multi-channel session
// (Config.Channels > 1) the channels' updates come in one stream, each
// with its Channel: a channel is its segments' speaker (see
// Segmenter.AddChannel) and the channels' states are folded into the
// session's (one ready; a channel failing for good only degrades the
// session until the last one fails).
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

// Run reads Updates from in and speaker assignments from assign until in
// is closed (then flushes what is buffered and returns nil) or ctx is done
// (returns ctx's cause).
//
// Channels: Run never closes its inputs. in is the connector's, which
// closes it. assign is owned by its writer (the session's reader of client
// messages), which may close it when no more assignments will come; Run
// then stops reading it and goes on with in. A nil assign means no
// assignments. Once in is closed (or ctx is done) Run returns and assign
// is not read any more: assignments not yet received are dropped, so its
// writer must not block on a send once Run has returned (select on ctx or
// a done signal too, or give the channel room). After EventFailed, Run
// still receives assignments but drops them: no message follows that
// event.
//
// An assignment is applied at once: Run first flushes the buffered
// segments (so that they have IDs and are reported once, with the person
// their speaker had until now), then applies it (Segmenter.Assign) and
// pushes one Message with the segments already sent whose person changed,
// if any.
//
// Run is the writer of every sink's Outbox and closes them all on return.
func (f *Fanout) Run(ctx context.Context, in <-chan stages.Update, assign <-chan stages.SpeakerAssignment, sinks []*Outbox[stages.Message]) error {
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
	if f.cfg.Profile {
		seg.UseProfile()
	}
	states := newChannelStates(f.cfg.Channels)
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
	failed := false // EventFailed was pushed: no message may follow
	for {
		select {
		case u, ok := <-in:
			if !ok {
				flush()
				return nil
			}
			if u.Kind == stages.EventResult {
				if u.Result.IsFinal && len(u.Result.Words) > 0 {
					switch {
					case u.Channel > 0:
						seg.AddChannel(u.Channel, u.Result)
					case u.Temporary:
						seg.AddTemporary(u.Result)
					default:
						seg.Add(u.Result)
					}
					if !armed {
						timer.Reset(interval)
						armed = true
					}
				}
				continue
			}
			if u.Kind == stages.EventPrefixDone {
				if !u.Temporary {
					seg.ProfileProcessed()
				}
				continue
			}
			if u.Temporary {
				continue
			}
			msg, ok := states.next(u)
			if !ok {
				continue
			}
			if msg.Event == stages.EventFailed {
				flush() // the last segments before the session ends
				failed = true
			}
			push(msg)
		case a, ok := <-assign:
			if !ok {
				assign = nil // closed: no more assignments
				continue
			}
			if failed {
				continue
			}
			flush()
			f.m.Assigned.Inc()
			if changed := seg.Assign(a); len(changed) > 0 {
				f.m.Segments.Add(len(changed))
				push(stages.Message{Segments: changed})
			}
		case <-timer.C:
			armed = false
			flush()
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}
