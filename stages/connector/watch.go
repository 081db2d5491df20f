package connector

import "time"

// stallWatch notices a stream that takes audio but answers nothing. Armed
// when audio is sent, it fires after half the stall timeout: if no result
// came since it was armed, the connector sends one Finalize (a probe); if
// still nothing came by the full timeout, the stream is declared dead. Any
// result re-arms it. Owned by the connector's loop; not concurrent.
type stallWatch struct {
	half    time.Duration // 0: disabled
	t       *time.Timer
	armed   bool
	probed  bool
	seen    int64 // result count when last armed or fired
	pending bool  // audio sent since the watch was armed or last re-armed
}

type stallVerdict int

const (
	stallFine stallVerdict = iota
	stallProbe
	stallDead
)

func newStallWatch(timeoutMs int) *stallWatch {
	w := &stallWatch{}
	if timeoutMs > 0 {
		w.half = time.Duration(timeoutMs) * time.Millisecond / 2
		w.t = time.NewTimer(w.half)
		w.t.Stop()
	}
	return w
}

// c is the channel to select on; nil (never ready) when disabled.
func (w *stallWatch) c() <-chan time.Time {
	if w.t == nil {
		return nil
	}
	return w.t.C
}

// sent records that audio went upstream; results is the receiver's count.
func (w *stallWatch) sent(results int64) {
	if w.t == nil {
		return
	}
	if w.armed {
		w.pending = true
		return
	}
	w.armed, w.probed, w.pending, w.seen = true, false, false, results
	w.t.Reset(w.half)
}

// fire judges the stream when the timer fired.
func (w *stallWatch) fire(results int64) stallVerdict {
	switch {
	case results != w.seen: // answered: watch the audio sent since
		w.seen, w.probed = results, false
		if w.pending {
			w.pending = false
			w.t.Reset(w.half)
		} else {
			w.armed = false
		}
		return stallFine
	case !w.probed:
		// The Finalize asks for everything sent so far: its answer
		// covers the audio that was pending.
		w.probed, w.pending = true, false
		w.t.Reset(w.half)
		return stallProbe
	default:
		return stallDead
	}
}

func (w *stallWatch) stop() {
	if w.t != nil {
		w.t.Stop()
	}
}

// pauseWatch notices that the client's audio paused: it fires once,
// FinalizeIdleMs after the last audio sent, and not again until more
// audio is sent. Owned by the connector's loop; not concurrent.
type pauseWatch struct {
	d time.Duration // 0: disabled
	t *time.Timer
}

func newPauseWatch(idleMs int) *pauseWatch {
	w := &pauseWatch{}
	if idleMs > 0 {
		w.d = time.Duration(idleMs) * time.Millisecond
		w.t = time.NewTimer(w.d)
		w.t.Stop()
	}
	return w
}

// c is the channel to select on; nil (never ready) when disabled.
func (w *pauseWatch) c() <-chan time.Time {
	if w.t == nil {
		return nil
	}
	return w.t.C
}

// sent records that audio went upstream: the pause starts over.
func (w *pauseWatch) sent() {
	if w.t != nil {
		w.t.Reset(w.d)
	}
}

// stop releases the timer.
func (w *pauseWatch) stop() {
	if w.t != nil {
		w.t.Stop()
	}
}
