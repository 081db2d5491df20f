package stages

import "slices"

// replayRing holds a session's audio that no final result has covered yet:
// what was sent on the current upstream stream but not acknowledged, then
// what was not sent yet. After a stream fails, the next stream re-sends all
// of it (replay), so no audio is lost across a reconnect.
//
// It is bounded by a number of samples. Over the bound the oldest audio is
// evicted and remembered as spans of capture indices; the connector counts
// the evicted samples no final had covered as lost (settle: at once while
// no stream is open; when the stream ends otherwise, since a final may
// still cover audio that was sent). Only samples that were pushed count:
// a gap in the capture indices (silence the gate never sent) is never
// lost. Not safe for concurrent use: the connector's loop owns it.
type replayRing struct {
	max     int64 // samples
	samples int64
	q       []Audio      // capture order
	sent    int          // q[:sent] went out on the current stream
	evicted []sampleSpan // evicted audio not settled yet, capture order
}

// sampleSpan is a run of capture indices [start, end).
type sampleSpan struct{ start, end int64 }

func newReplayRing(maxSamples int64) *replayRing {
	return &replayRing{max: maxSamples}
}

// push appends a, evicting the oldest audio beyond the bound.
func (r *replayRing) push(a Audio) {
	r.q = append(r.q, a)
	r.samples += a.Samples()
	for r.samples > r.max && len(r.q) > 0 {
		n := min(r.q[0].Samples(), r.samples-r.max)
		r.evict(r.q[0].Start, n)
		r.dropFront(n)
	}
}

// evict remembers that n samples from capture index start were evicted,
// merging with the previous span when contiguous.
func (r *replayRing) evict(start, n int64) {
	if k := len(r.evicted); k > 0 && r.evicted[k-1].end == start {
		r.evicted[k-1].end += n
		return
	}
	r.evicted = append(r.evicted, sampleSpan{start, start + n})
}

// settle returns how many evicted samples lie at or after capture index
// acked (no final covered them), and forgets every evicted span.
func (r *replayRing) settle(acked int64) (lost int64) {
	for _, sp := range r.evicted {
		lost += max(0, sp.end-max(sp.start, acked))
	}
	r.evicted = r.evicted[:0]
	return lost
}

// dropFront removes n samples (at most the head entry's) from the front.
func (r *replayRing) dropFront(n int64) {
	head := &r.q[0]
	r.samples -= n
	if n < head.Samples() {
		head.PCM = head.PCM[n*2:]
		head.Start += n
		return
	}
	r.q[0] = Audio{}
	r.q = r.q[1:]
	if r.sent > 0 {
		r.sent--
	}
	if len(r.q) == 0 {
		r.q = r.q[:0:0]
	}
}

// next returns the oldest audio not sent on the current stream and marks
// it sent.
func (r *replayRing) next() (Audio, bool) {
	if r.sent == len(r.q) {
		return Audio{}, false
	}
	a := r.q[r.sent]
	r.sent++
	return a, true
}

// unsend marks the audio last returned by next as not sent (its send
// failed).
func (r *replayRing) unsend() {
	if r.sent > 0 {
		r.sent--
	}
}

// ack drops the sent audio before capture index upTo: a final result
// covers it. Evicted spans it covers whole are forgotten (not lost).
func (r *replayRing) ack(upTo int64) {
	for r.sent > 0 && len(r.q) > 0 && r.q[0].Start < upTo {
		r.dropFront(min(r.q[0].Samples(), upTo-r.q[0].Start))
	}
	covered := 0
	for covered < len(r.evicted) && r.evicted[covered].end <= upTo {
		covered++
	}
	r.evicted = slices.Delete(r.evicted, 0, covered)
}

// rewind marks everything unsent, for a new stream, and returns how many
// samples will be sent again (replayed).
func (r *replayRing) rewind() (replayed int64) {
	for _, a := range r.q[:r.sent] {
		replayed += a.Samples()
	}
	r.sent = 0
	return replayed
}

// held reports the samples held.
func (r *replayRing) held() int64 { return r.samples }
