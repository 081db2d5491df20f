package pusher

import "time"

// audioQueue is a session's audio waiting for the pusher: chunks of mono
// PCM16 on the capture clock, oldest first, bounded by bytes. Not safe for
// concurrent use (the Session's mutex guards it).
type audioQueue struct {
	chunks []audioChunk
	bytes  int
	cap    int
}

// audioChunk is a run of samples starting at capture index start; at is
// when its first sample arrived.
type audioChunk struct {
	start int64
	pcm   []byte
	at    time.Time
}

func (c audioChunk) end() int64 { return c.start + int64(len(c.pcm)/2) }

// add appends a copy of pcm (whole samples) at start, arrived at now, and
// drops the oldest audio beyond the cap; it returns the capture span of
// what it dropped (from ≥ to: nothing).
func (q *audioQueue) add(start int64, pcm []byte, now time.Time) (from, to int64) {
	pcm = pcm[:len(pcm)&^1]
	if len(pcm) == 0 {
		return 0, 0
	}
	if n := len(q.chunks); n > 0 && q.chunks[n-1].end() == start && cap(q.chunks[n-1].pcm)-len(q.chunks[n-1].pcm) >= len(pcm) {
		q.chunks[n-1].pcm = append(q.chunks[n-1].pcm, pcm...)
	} else {
		// Room for about a second of 100 ms frames, so that appends
		// rarely copy.
		buf := make([]byte, len(pcm), max(len(pcm), 16<<10))
		copy(buf, pcm)
		q.chunks = append(q.chunks, audioChunk{start: start, pcm: buf, at: now})
	}
	q.bytes += len(pcm)
	if q.bytes <= q.cap {
		return 0, 0
	}
	from = q.chunks[0].start
	q.dropBytes(q.bytes - q.cap)
	return from, q.head()
}

// head is the capture index of the oldest sample held (or where the
// queue ended, if empty).
func (q *audioQueue) head() int64 {
	if len(q.chunks) == 0 {
		return 0
	}
	return q.chunks[0].start
}

// dropArrivedBefore drops the chunks whose first sample arrived before
// t.
func (q *audioQueue) dropArrivedBefore(t time.Time) {
	for len(q.chunks) > 0 && q.chunks[0].at.Before(t) {
		q.dropBytes(len(q.chunks[0].pcm))
	}
}

// dropBytes drops n bytes (rounded up to whole samples) from the head.
func (q *audioQueue) dropBytes(n int) {
	n += n & 1
	for n > 0 && len(q.chunks) > 0 {
		c := &q.chunks[0]
		if len(c.pcm) <= n {
			n -= len(c.pcm)
			q.bytes -= len(c.pcm)
			q.chunks[0] = audioChunk{}
			q.chunks = q.chunks[1:]
			continue
		}
		c.pcm = c.pcm[n:]
		c.start += int64(n / 2)
		q.bytes -= n
		n = 0
	}
	if len(q.chunks) == 0 {
		q.chunks = nil
	}
}

// dropBefore drops every sample before capture index at.
func (q *audioQueue) dropBefore(at int64) {
	for len(q.chunks) > 0 && q.chunks[0].start < at {
		c := q.chunks[0]
		if c.end() <= at {
			q.dropBytes(len(c.pcm))
			continue
		}
		q.dropBytes(int(at-c.start) * 2)
	}
}

// take removes and returns the audio from the head up to capture index
// limit (exclusive), contiguous and at most maxBytes, as one chunk; ok is
// false when none is there.
func (q *audioQueue) take(limit int64, maxBytes int) (audioChunk, bool) {
	if len(q.chunks) == 0 || q.chunks[0].start >= limit {
		return audioChunk{}, false
	}
	out := audioChunk{start: q.chunks[0].start}
	for len(q.chunks) > 0 && len(out.pcm) < maxBytes {
		c := q.chunks[0]
		if c.start != out.end() || c.start >= limit {
			break
		}
		n := min(len(c.pcm), int(limit-c.start)*2, maxBytes-len(out.pcm))
		n &^= 1
		if n == 0 {
			break
		}
		out.pcm = append(out.pcm, c.pcm[:n]...)
		q.dropBytes(n)
	}
	return out, len(out.pcm) > 0
}

// due reports whether audio before capture index limit is held.
func (q *audioQueue) due(limit int64) bool {
	return len(q.chunks) > 0 && q.chunks[0].start < limit
}
