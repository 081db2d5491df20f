package connector

import (
	"earshot/stages"
)

// prefixChunkBytes is the most of the prefix sent in one message: 250 ms
// at 16 kHz.
const prefixChunkBytes = 8000

// prefixToleranceSec is how far short of the prefix's end a result may
// stop and still count as having worked through it (a provider's last
// final ends a little before the audio).
const prefixToleranceSec = 0.05

// sendPrefix sends Deps.Prefix at the start of the stream, at full speed
// and before any of the session's audio, then a Finalize so the provider
// finalizes the prefix's words at once (see Deps.Prefix). The prefix
// counts as audio sent (what a provider bills); it is not in the replay
// ring: every stream gets it again.
func (r *streamRun) sendPrefix() error {
	p := r.c.deps.Prefix
	if len(p) < 2 {
		return nil
	}
	p = p[:len(p)&^1]
	for off := 0; off < len(p); off += prefixChunkBytes {
		chunk := p[off:min(off+prefixChunkBytes, len(p))]
		if err := r.s.SendAudio(r.ioCtx, chunk); err != nil {
			return r.sendFailed(err)
		}
		r.c.sentAudio(r.link, int64(len(chunk)/2))
	}
	if err := r.s.SendControl(r.ioCtx, stages.ControlFinalize); err != nil {
		return r.sendFailed(err)
	}
	r.sent()
	return nil
}

// prefix handles a result of a stream that began with a prefix of
// prefixSec provider seconds, before its times are mapped: it drops the
// words that start inside the prefix and reports whether the result
// reached past the prefix for the first time (EventPrefixDone is due) and
// whether it covers only prefix audio (it says nothing of the capture
// clock: no acknowledgement, and nothing to forward when it has no
// words left).
func (r *receiver) prefix(res *stages.Result) (done, only bool) {
	end := res.StartSec + res.DurationSec
	kept := res.Words[:0]
	for _, w := range res.Words {
		if w.StartSec >= r.prefixSec {
			kept = append(kept, w)
		} else {
			r.c.deps.Metrics.PrefixWords.Inc()
		}
	}
	res.Words = kept
	if !r.prefixDone && (res.FromFinalize || end >= r.prefixSec-prefixToleranceSec) {
		r.prefixDone, done = true, true
	}
	return done, end <= r.prefixSec+prefixToleranceSec
}
