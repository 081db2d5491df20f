package fanout

import (
	"context"
	"time"

	"earshot/stages"
)

// Run reads Updates from in and speaker assignments from assign until in
// is closed (then flushes what is buffered, ends the open conversation
// and returns nil) or ctx is done (returns ctx's cause).
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
// if any, with the assignment; nothing when no person changed.
//
// Run is the only caller of every sink's Push and Close, and closes them
// all on return.
func (f *Fanout) Run(ctx context.Context, in <-chan stages.Update, assign <-chan stages.SpeakerAssignment, sinks []Sink) error {
	defer func() {
		for _, s := range sinks {
			s.Close()
		}
	}()
	r := f.newRun(sinks)
	interval := time.Duration(f.cfg.FlushIntervalMs) * time.Millisecond
	timer := time.NewTimer(interval)
	timer.Stop()
	defer timer.Stop()
	check := time.NewTicker(time.Duration(f.cfg.ConversationCheckMs) * time.Millisecond)
	defer check.Stop()
	armed := false
	for {
		select {
		case u, ok := <-in:
			if !ok {
				r.flush()
				r.endConversation(true)
				return nil
			}
			if r.update(u) && !armed {
				timer.Reset(interval)
				armed = true
			}
		case a, ok := <-assign:
			if !ok {
				assign = nil // closed: no more assignments
				continue
			}
			r.assign(a)
		case <-timer.C:
			armed = false
			r.flush()
		case <-check.C:
			r.checkSilence()
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// run is one Run's state, owned by its goroutine.
type run struct {
	f      *Fanout
	sinks  []Sink
	seg    *Segmenter
	states *channelStates
	conv   *conversations
	down   map[int]bool // channels whose upstream is degraded
	failed bool         // EventFailed was pushed: no message may follow
}

func (f *Fanout) newRun(sinks []Sink) *run {
	seg := NewSegmenter(f.cfg.Segmenter, f.deps.Provider, f.deps.NewID)
	if f.cfg.Profile {
		seg.UseProfile()
	}
	return &run{
		f: f, sinks: sinks, seg: seg,
		states: newChannelStates(f.cfg.Channels),
		conv:   newConversations(conversationTimeout(f.cfg.ConversationTimeoutSec), f.deps.NewID),
		down:   map[int]bool{},
	}
}

func (r *run) push(m stages.Message) {
	for _, s := range r.sinks {
		if !s.Push(m) {
			r.f.m.dropped(s.Name()).Inc()
		}
	}
}

// update handles one connector update and reports whether it buffered
// words (the flush timer is to be armed).
func (r *run) update(u stages.Update) bool {
	switch {
	case u.Kind == stages.EventResult:
		if !u.Result.IsFinal || len(u.Result.Words) == 0 {
			return false
		}
		first, last, _ := wordSpan(u.Result)
		if r.conv.splits(first) {
			r.flush()
			r.endConversation(false)
		}
		r.conv.heardWords(last)
		switch {
		case u.Channel > 0:
			r.seg.AddChannel(u.Channel, u.Result)
		case u.Temporary:
			r.seg.AddTemporary(u.Result)
		default:
			r.seg.Add(u.Result)
		}
		return true
	case u.Kind == stages.EventPrefixDone:
		if !u.Temporary {
			r.seg.ProfileProcessed()
		}
	case u.Temporary:
	default:
		switch u.Kind {
		case stages.EventDegraded:
			r.down[u.Channel] = true
		case stages.EventRecovered, stages.EventConnected:
			delete(r.down, u.Channel)
		}
		msg, ok := r.states.next(u)
		if !ok {
			return false
		}
		if msg.Event == stages.EventFailed {
			// The last segments and the conversation's end before the
			// session ends.
			r.flush()
			r.endConversation(true)
			r.failed = true
		}
		r.push(msg)
	}
	return false
}

// flush merges the buffered segments and pushes what changed, opening a
// conversation first if none is open.
func (r *run) flush() {
	if r.failed {
		return
	}
	changed, deleted := r.seg.Flush()
	if len(changed) == 0 && len(deleted) == 0 {
		return
	}
	if !r.conv.open {
		origin, _ := r.seg.Origin()
		c := r.conv.start(origin)
		r.f.m.Conversations.Inc()
		r.push(stages.Message{Conversation: &c, ConversationID: c.ID})
	}
	r.f.m.Segments.Add(len(changed))
	r.push(stages.Message{Segments: changed, Deleted: deleted, ConversationID: r.conv.id})
}

// endConversation ends the open conversation, if any, and starts the
// segment list over. atAudioEnd: the session's audio ended (or its
// upstream failed), so the conversation ends no later than the capture
// clock, not only at its timeout.
func (r *run) endConversation(atAudioEnd bool) {
	if !r.conv.open || r.failed {
		return
	}
	audioEnd := -1.0
	if atAudioEnd && r.f.deps.CaptureSec != nil {
		audioEnd = r.f.deps.CaptureSec()
	}
	c := r.conv.end(audioEnd, r.seg.Len())
	r.seg.Reset()
	r.push(stages.Message{Conversation: &c, ConversationID: c.ID})
}

// checkSilence ends the open conversation once the capture clock shows
// its silence reached the timeout, unless an upstream is degraded (its
// words may still come, from the replay).
func (r *run) checkSilence() {
	if r.f.deps.CaptureSec == nil || len(r.down) > 0 || !r.conv.quiet(r.f.deps.CaptureSec()) {
		return
	}
	r.flush()
	r.endConversation(false)
}

// assign applies a client's speaker assignment (see Run).
func (r *run) assign(a stages.SpeakerAssignment) {
	if r.failed {
		return
	}
	r.flush()
	r.f.m.Assigned.Inc()
	if changed := r.seg.Assign(a); len(changed) > 0 {
		r.f.m.Segments.Add(len(changed))
		r.push(stages.Message{Segments: changed, ConversationID: r.conv.id, Assignment: &a})
	}
}
