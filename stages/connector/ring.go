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
// It is bounded by a number of samples. Over the bound the oldest audio is
// evicted and remembered as spans of capture indices; the connector counts
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
}

// ringEntry is one pushed run of audio: samples from capture index start,
// stored at byte offset off of the ring's byte stream.
type ringEntry struct {
	start, samples int64
	off            int64
}

// sampleSpan is a run of capture indices [start, end).
type sampleSpan struct{ start, end int64 }

func newReplayRing(maxSamples int64, pool *chunks.Pool) *replayRing {
	return &replayRing{max: maxSamples, bytes: ringBytes{pool: pool}}
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
	off := r.bytes.write(a.PCM)
	r.q = append(r.q, ringEntry{start: a.Start, samples: n, off: off})
	r.samples += n
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

// held reports the samples held.
func (r *replayRing) held() int64 { return r.samples }

// release drops everything held without counting it anywhere and gives
// the chunks back; the ring is empty after it and can be used again.
func (r *replayRing) release() {
	r.q, r.sent, r.samples = nil, 0, 0
	r.bytes.reset()
}
