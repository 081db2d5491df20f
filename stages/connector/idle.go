package connector

import (
	"context"
	"errors"
	"time"

	"earshot/stages"
)

// errIdleClosed ends a stream that the connector closed because the VAD
// gate held the audio back for the link's IdleCloseMs: the next speech
// opens a new one.
var errIdleClosed = errors.New("stream closed while the gate holds the audio back")

// idleClose is the link's idle close, 0 when it has none.
func (r *streamRun) idleClose() time.Duration {
	return time.Duration(max(r.link.IdleCloseMs, 0)) * time.Millisecond
}

// holding notes a MarkHold (the gate holds the audio back from now) or
// audio (it does not); while it holds, the idle timer runs.
func (r *streamRun) holding(a stages.Audio) {
	d := r.idleClose()
	if d == 0 {
		return
	}
	switch {
	case a.Mark == stages.MarkHold:
		if !r.held {
			r.held = true
			r.idleTimer.Reset(d)
		}
	case a.Samples() > 0:
		r.held = false
		r.idleTimer.Stop()
	}
}

// idleTicks is the idle timer's channel.
func (r *streamRun) idleTicks() <-chan time.Time { return r.idleTimer.C }

// idleDue closes the stream when the gate has held the audio back for
// IdleCloseMs and every word sent is covered by final results: it ends
// it properly (CloseStream, its last results) and returns errIdleClosed.
// Otherwise it waits another IdleCloseMs.
func (r *streamRun) idleDue(ctx context.Context) error {
	if !r.held {
		return nil
	}
	if r.rx.acked.Load() < r.st.wordsEnd {
		r.idleTimer.Reset(r.idleClose())
		return nil
	}
	finished, err := r.c.closeStream(ctx, r.ioCtx, r.s, r.recvDone)
	r.st.acked = max(r.st.acked, r.rx.acked.Load())
	if err != nil {
		return err
	}
	if !finished {
		r.c.log.Debug("idle stream did not finish after CloseStream", "provider", r.link.Provider.Name())
	}
	r.c.deps.Metrics.idleCloses(r.link.Provider.Name()).Inc()
	return errIdleClosed
}

// waitSpeech takes the input into the ring while the gate holds it back
// (or before any audio), until audio comes: then a stream is worth
// opening. It returns false when the input closed meanwhile (the session
// is over), and ctx's cause on a hard stop.
func (c *Connector) waitSpeech(ctx context.Context, st *connState) (bool, error) {
	for {
		a, ok, err := stages.Recv(ctx, st.in)
		if err != nil {
			return false, err
		}
		if !ok {
			st.in = nil
			return false, nil
		}
		if took, _ := st.take(a, noStream); took {
			c.settleLost(st)
			return true, nil
		}
	}
}
