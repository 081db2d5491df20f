package stages

// pending holds audio that has not reached an open upstream stream yet,
// bounded by a number of samples. Over the bound the oldest audio is
// dropped and reported, never silently. Not safe for concurrent use.
type pending struct {
	max     int64 // samples
	samples int64
	q       []Audio
}

func newPending(maxSamples int64) *pending { return &pending{max: maxSamples} }

// push appends a and returns how many samples were dropped from the front
// to stay within the bound.
func (p *pending) push(a Audio) (dropped int64) {
	p.q = append(p.q, a)
	p.samples += a.Samples()
	for p.samples > p.max && len(p.q) > 0 {
		over := p.samples - p.max
		head := &p.q[0]
		if n := head.Samples(); n <= over {
			dropped += n
			p.samples -= n
			p.q[0] = Audio{}
			p.q = p.q[1:]
			continue
		}
		head.PCM = head.PCM[over*2:]
		head.Start += over
		dropped += over
		p.samples -= over
	}
	return dropped
}

// unshift puts a back at the front (audio whose send failed).
func (p *pending) unshift(a Audio) {
	p.q = append([]Audio{a}, p.q...)
	p.samples += a.Samples()
}

// pop removes and returns the oldest audio.
func (p *pending) pop() (Audio, bool) {
	if len(p.q) == 0 {
		return Audio{}, false
	}
	a := p.q[0]
	p.q[0] = Audio{}
	p.q = p.q[1:]
	p.samples -= a.Samples()
	if len(p.q) == 0 {
		p.q = p.q[:0:0]
	}
	return a, true
}
