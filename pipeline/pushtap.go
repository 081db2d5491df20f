package pipeline

import (
	"sync"
	"sync/atomic"

	"earshot/stages"
	"earshot/stages/ingest"
	"earshot/stages/pusher"
)

// pusherTap gives a session's audio to its pusher sink as the ingest
// stages decode it: a single channel's as it is, several channels mixed
// into one mono stream (ingest.Mixer, clamped sum), under a mutex as
// each channel's ingest calls from its own goroutine. The last ingest to
// finish flushes the mix, before the fan-out closes the sink.
type pusherTap struct {
	ps      *pusher.Session
	mu      sync.Mutex
	mix     *ingest.Mixer // nil for one channel
	running atomic.Int32
}

func newPusherTap(ps *pusher.Session, channels, rateHz int) *pusherTap {
	t := &pusherTap{ps: ps}
	t.running.Store(int32(max(channels, 1)))
	if channels > 1 {
		t.mix = ingest.NewMixer(channels, rateHz, 0)
	}
	return t
}

// channel returns the ingest tap of 0-based channel i.
func (t *pusherTap) channel(i int) func(stages.Audio) {
	if t.mix == nil {
		return t.ps.Audio
	}
	return func(a stages.Audio) {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.mix.Add(i, a)
		if out := t.mix.Take(); len(out.PCM) > 0 {
			t.ps.Audio(out)
		}
	}
}

// ingestDone is called when a channel's ingest returned.
func (t *pusherTap) ingestDone() {
	if t.running.Add(-1) != 0 || t.mix == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if out := t.mix.Flush(); len(out.PCM) > 0 {
		t.ps.Audio(out)
	}
}
