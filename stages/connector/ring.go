package connector

import (
	"slices"

	"earshot/internal/chunks"
	"earshot/stages"
)

// replayRing holds a session's audio that no final result has covered yet:
// what was sent on the current upstream stream but not acknowledged, then
// what was not sent yet. After a stream fails, the next stream re-sends all
// of it (replay), so no audio is lost across a reconnect.
//
// It is bounded by a number of samples, and by its share of the pool's
// budget (chunks.Pool.SetBudget): the budget divided among the rings that
// hold audio, so that when memory is short every session keeps the same
// most recent stretch of audio and none takes the budget; a ring at its
// share, or finding the budget spent, evicts its own oldest audio rather
// than grow. Over either bound the oldest audio is evicted and remembered as spans of capture indices; the connector counts
// the evicted samples no final had covered as lost (settle: at once while
// no stream is open; when the stream ends otherwise, since a final may
// still cover audio that was sent). Only samples that were pushed count:
// a gap in the capture indices (silence the gate never sent) is never
// lost.
//
// The ring copies what it is given into chunks of a process-wide pool
// (see ringBytes), so it holds the audio itself, packed, and nothing of
// the frames it came in: its memory is its held audio rounded up to one
// chunk, given back as finals cover it. release gives back everything.
//
// Not safe for concurrent use: the connector's loop owns it.
type replayRing struct {
	max     int64 // samples
	samples int64
	q       []ringEntry  // capture order
	sent    int          // q[:sent] went out on the current stream
	evicted []sampleSpan // evicted audio not settled yet, capture order
	bytes   ringBytes
	joined  bool // holds a share of the pool's budget until release
}

// ringEntry is one pushed run of audio: samples from capture index start,
// stored at byte offset off of the ring's byte stream.
type ringEntry struct {
	start, samples int64
	off            int64
}

// sampleSpan is a run of capture indices [start, end).
type sampleSpan struct{ start, end int64 }

// newReplayRing returns a ring of at most maxSamples that stores its audio
// in pool. A ring that can hold audio joins the holders sharing pool's
// budget (chunks.Pool.Share) until release.
func newReplayRing(maxSamples int64, pool *chunks.Pool) *replayRing {
	r := &replayRing{max: maxSamples, bytes: ringBytes{pool: pool}}
	if maxSamples > 0 {
		pool.Join()
		r.joined = true
	}
	return r
}

// push copies a's samples in, evicting the oldest audio beyond the
// bound. a's PCM is not retained.
func (r *replayRing) push(a stages.Audio) {
	n := a.Samples()
	if n == 0 {
		return
	}
	over := r.samples + n - r.max
	for over > 0 && len(r.q) > 0 {
		k := min(r.q[0].samples, over)
		r.evict(r.q[0].start, k)
		r.dropFront(k)
		over -= k
	}
	if over > 0 { // only the newest max samples of a can be held
		r.evict(a.Start, over)
		a.PCM = a.PCM[2*over:]
		a.Start += over
		n -= over
		if n == 0 {
			return
		}
	}
	for {
		off, ok := r.bytes.write(a.PCM, r.bytes.pool.Share())
		if ok {
			r.q = append(r.q, ringEntry{start: a.Start, samples: n, off: off})
			r.samples += n
			return
		}
		// Over its share of the budget, or the budget is spent: the
		// ring gives up its own oldest audio, a chunk's worth at a
		// time, and with nothing left to give up, the newest.
		if len(r.q) == 0 {
			r.evict(a.Start, n)
			r.bytes.pool.Evicted(2 * n)
			return
		}
		k := min(r.q[0].samples, int64(r.bytes.pool.ChunkBytes()/2))
		r.evict(r.q[0].start, k)
		r.bytes.pool.Evicted(2 * k)
		r.dropFront(k)
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

// dropFront removes n samples (at most the head entry's) from the front,
// giving back the chunks no held audio uses any more.
func (r *replayRing) dropFront(n int64) {
	head := &r.q[0]
	r.samples -= n
	if n < head.samples {
		head.start += n
		head.samples -= n
		head.off += 2 * n
		r.bytes.trim(head.off)
		return
	}
	r.q = r.q[1:]
	if r.sent > 0 {
		r.sent--
	}
	if len(r.q) == 0 {
		r.q = r.q[:0:0]
		r.bytes.reset()
		return
	}
	r.bytes.trim(r.q[0].off)
}

// next returns the oldest audio not sent on the current stream and marks
// it sent. Its PCM is valid until the next call of any method.
func (r *replayRing) next() (stages.Audio, bool) {
	if r.sent == len(r.q) {
		return stages.Audio{}, false
	}
	e := r.q[r.sent]
	r.sent++
	return stages.Audio{PCM: r.bytes.read(e.off, 2*e.samples), Start: e.start}, true
}

// unsent is how many entries next has yet to return.
func (r *replayRing) unsent() int { return len(r.q) - r.sent }

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
	for r.sent > 0 && len(r.q) > 0 && r.q[0].start < upTo {
		r.dropFront(min(r.q[0].samples, upTo-r.q[0].start))
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
	for _, e := range r.q[:r.sent] {
		replayed += e.samples
	}
	r.sent = 0
	return replayed
}

// discard drops everything held (sent or not) and returns how many
// samples that was: a connector without replay gives up what the last
// stream did not cover and what came during the outage.
func (r *replayRing) discard() (n int64) {
	n = r.samples
	for len(r.q) > 0 {
		r.sent = max(r.sent, 1)
		r.dropFront(r.q[0].samples)
	}
	r.sent = 0
	return n
}

// held reports the samples held.
func (r *replayRing) held() int64 { return r.samples }

// release drops everything held without counting it anywhere, gives the
// chunks back and leaves the pool's budget; the ring is empty after it
// and can be used again (outside the budget's sharing).
func (r *replayRing) release() {
	r.q, r.sent, r.samples = nil, 0, 0
	r.bytes.reset()
	if r.joined {
		r.bytes.pool.Leave()
		r.joined = false
	}
}
