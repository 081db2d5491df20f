package stages

// replayRing holds a session's audio that no final result has covered yet:
// what was sent on the current upstream stream but not acknowledged, then
// what was not sent yet. After a stream fails, the next stream re-sends all
// of it (replay), so no audio is lost across a reconnect.
//
// It is bounded by a number of samples. Over the bound the oldest audio is
// evicted; the connector counts what no final had covered as lost (at once
// while no stream is open; when the stream ends otherwise, since a final
// may still cover audio that was sent). Not safe for concurrent use: the
// connector's loop owns it.
type replayRing struct {
	max     int64 // samples
	samples int64
	q       []Audio // capture order
	sent    int     // q[:sent] went out on the current stream
	end     int64   // capture index after the last pushed sample
}

func newReplayRing(maxSamples int64) *replayRing {
	return &replayRing{max: maxSamples}
}

// push appends a, evicting the oldest audio beyond the bound.
func (r *replayRing) push(a Audio) {
	r.q = append(r.q, a)
	r.samples += a.Samples()
	r.end = a.End()
	for r.samples > r.max && len(r.q) > 0 {
		r.dropFront(min(r.q[0].Samples(), r.samples-r.max))
	}
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
// covers it.
func (r *replayRing) ack(upTo int64) {
	for r.sent > 0 && len(r.q) > 0 && r.q[0].Start < upTo {
		r.dropFront(min(r.q[0].Samples(), upTo-r.q[0].Start))
	}
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

// start is the capture index of the oldest audio held, or the end of the
// audio pushed so far when nothing is held.
func (r *replayRing) start() int64 {
	if len(r.q) == 0 {
		return r.end
	}
	return r.q[0].Start
}

// held reports the samples held.
func (r *replayRing) held() int64 { return r.samples }
