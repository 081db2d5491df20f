package pipeline

import "time"

// pace holds one session's audio to at most MaxPace times real time: a
// token bucket of audio time, full (PaceBurstMs) when the session starts,
// refilled at MaxPace seconds of audio per wall second, so that an app
// sending the backlog it buffered while offline gets through while a
// client pushing audio far faster than it is spoken (billed by a paid
// provider) is stopped. Owned by the session's reader; not concurrent.
type pace struct {
	rate   float64       // audio time per wall time; 0: unlimited
	burst  time.Duration // of audio
	tokens time.Duration // of audio
	last   time.Time
}

// newPace returns a pace for maxPace (≤ 0: unlimited) and a burst of
// burstMs of audio, starting full at now.
func newPace(maxPace float64, burstMs int, now time.Time) *pace {
	p := &pace{burst: time.Duration(burstMs) * time.Millisecond, last: now}
	if maxPace > 0 {
		p.rate = maxPace
	}
	p.tokens = p.burst
	return p
}

// take reports whether audio lasting d, arriving at now, keeps to the
// pace, and takes it from the bucket if so.
func (p *pace) take(d time.Duration, now time.Time) bool {
	if p.rate == 0 {
		return true
	}
	if elapsed := now.Sub(p.last); elapsed > 0 {
		p.tokens = min(p.burst, p.tokens+time.Duration(float64(elapsed)*p.rate))
		p.last = now
	}
	if d > p.tokens {
		return false
	}
	p.tokens -= d
	return true
}
