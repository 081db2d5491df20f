package connector

import "time"

// watch is a one-shot timer a connector's loop selects on: reset restarts
// it; it fires once, d after the last reset, and not again until the next
// reset. A watch made with a non-positive duration is disabled: c is nil
// (never ready) and reset does nothing. Owned by the loop; not concurrent.
//
// The pause watch is a bare watch (it fires FinalizeIdleMs after the last
// audio sent); the stall watch adds its verdicts on top.
type watch struct {
	d time.Duration // 0: disabled
	t *time.Timer
}

// newWatch returns a stopped watch of ms milliseconds (ms ≤ 0: disabled).
func newWatch(ms int) *watch {
	return newWatchDuration(time.Duration(max(ms, 0)) * time.Millisecond)
}

func newWatchDuration(d time.Duration) *watch {
	w := &watch{d: d}
	if d > 0 {
		w.t = time.NewTimer(d)
		w.t.Stop()
	}
	return w
}

// c is the channel to select on; nil (never ready) when disabled.
func (w *watch) c() <-chan time.Time {
	if w.t == nil {
		return nil
	}
	return w.t.C
}

// reset (re)starts the watch: it fires d from now.
func (w *watch) reset() {
	if w.t != nil {
		w.t.Reset(w.d)
	}
}

// stop releases the timer.
func (w *watch) stop() {
	if w.t != nil {
		w.t.Stop()
	}
}

// stallWatch notices a stream that takes audio but answers nothing. Armed
// when audio is sent, it fires after half the stall timeout: if no result
// came since it was armed, the connector sends one Finalize (a probe); if
// still nothing came by the full timeout, the stream is declared dead. Any
// result re-arms it.
type stallWatch struct {
	*watch
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

// newStallWatch returns a stall watch for timeoutMs (≤ 0: disabled).
func newStallWatch(timeoutMs int) *stallWatch {
	return &stallWatch{watch: newWatchDuration(time.Duration(max(timeoutMs, 0)) * time.Millisecond / 2)}
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
	w.reset()
}

// fire judges the stream when the timer fired.
func (w *stallWatch) fire(results int64) stallVerdict {
	switch {
	case results != w.seen: // answered: watch the audio sent since
		w.seen, w.probed = results, false
		if w.pending {
			w.pending = false
			w.reset()
		} else {
			w.armed = false
		}
		return stallFine
	case !w.probed:
		// The Finalize asks for everything sent so far: its answer
		// covers the audio that was pending.
		w.probed, w.pending = true, false
		w.reset()
		return stallProbe
	default:
		return stallDead
	}
}
