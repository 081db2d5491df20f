package connector

import (
	"time"

	"earshot/stages"
)

// connState is what survives from one upstream stream to the next. Owned
// by Run's goroutine.
type connState struct {
	in   <-chan stages.Audio // nil once closed
	ring *replayRing
	// acked is the capture index up to which final results cover the
	// audio.
	acked int64
	// wordsEnd is the capture index after the last audio that may hold
	// words not asked for yet (all audio but gate silence whose Finalize
	// was due already).
	wordsEnd int64
	// silence follows the gate's silence, for its Finalize.
	silence silenceRun
	// streams counts the streams opened so far (Result.Stream).
	streams int
	// The chain (chain.go): the current provider's index, the moves made,
	// the provider just left (until the next connect reports it), when
	// the current outage began (zero: none), skip: the current
	// provider is done for the session, and banned: the providers that
	// refused it for good (never failed back to).
	link, failovers int
	fellFrom        string
	failingSince    time.Time
	skip            bool
	banned          map[int]bool
}

// ban records that the current provider refused the session for good.
func (st *connState) ban() {
	if st.banned == nil {
		st.banned = map[int]bool{}
	}
	st.banned[st.link] = true
}

// take puts audio from the input into the replay ring (a copy: a's
// buffer is given back) and reports whether it kept any. A MarkHold (no
// audio) and audio with no samples keep nothing.
//
// When the gate's silence calls for a Finalize (see silenceRun), take
// calls due at that point of the audio: after putting the audio before it
// in the ring, before the rest. due reports whether the Finalize is sent
// (no stream open: it is dropped), and take returns due's error at once.
func (st *connState) take(a stages.Audio, due func() error) (took bool, err error) {
	defer a.Release()
	switch a.Mark {
	case stages.MarkHold:
		if st.silence.held(a.Start) {
			return false, due()
		}
		return false, nil
	case stages.MarkSilence:
	default:
		st.silence.reset()
		if a.Samples() == 0 {
			return false, nil
		}
		st.push(a, true)
		return true, nil
	}
	for {
		n, isDue := st.silence.until(a.Start, a.Samples())
		head, rest := a.Split(n)
		if head.Samples() > 0 {
			st.push(head, !st.silence.asked)
			took = true
		}
		if !isDue {
			return took, nil
		}
		st.silence.asked = true
		if err := due(); err != nil || rest.Samples() == 0 {
			return took, err
		}
		a = rest
	}
}

// push puts a in the ring; words says it may hold words not asked for.
func (st *connState) push(a stages.Audio, words bool) {
	st.ring.push(a)
	if words {
		st.wordsEnd = a.End()
	}
}

// silenceRun follows one silence of the VAD gate (stages.MarkSilence after
// speech) to decide where its Finalize is due: once FinalizeSilenceMs of it
// went by, or where the gate starts holding audio back (stages.MarkHold)
// if that comes first; once per silence. Not concurrent.
type silenceRun struct {
	finN  int64 // samples of silence before the Finalize; negative: never
	from  int64 // capture index where the silence began; -1: none
	asked bool  // this silence's Finalize was due already
}

func newSilenceRun(finN int64) silenceRun { return silenceRun{finN: finN, from: -1} }

// reset ends the silence: speech, or audio the gate did not judge.
func (r *silenceRun) reset() { r.from, r.asked = -1, false }

// until reports, for n samples of silence from capture index start, how
// many come before the Finalize point and whether it falls within them
// (at their end included): n and false when no Finalize is due in them.
func (r *silenceRun) until(start, n int64) (int64, bool) {
	if r.from < 0 {
		r.from = start
	}
	if r.asked || r.finN < 0 {
		return n, false
	}
	left := max(0, r.finN-(start-r.from))
	if left > n {
		return n, false
	}
	return left, true
}

// held reports whether the gate's holding audio back from start is where
// this silence's Finalize is due (it was not due before).
func (r *silenceRun) held(start int64) bool {
	if r.from < 0 {
		r.from = start
	}
	if r.asked || r.finN < 0 {
		return false
	}
	r.asked = true
	return true
}
