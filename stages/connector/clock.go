package connector

import (
	"sync"

	"earshot/stages"
)

// ClockMap maps one upstream stream's provider time back onto the capture
// clock.
//
// Providers count only the audio they receive: a stream starts at 0, and a
// gap in the audio sent (a gate that held silence back, audio dropped while
// no stream was open) shifts everything after it. The sender records every
// Audio it sends with Sent; each discontinuity becomes a checkpoint
// (provider sample → capture sample). Capture maps a provider time through
// the last checkpoint at or before it.
//
// Sent is called by the one goroutine that sends audio; Capture may be
// called concurrently from the goroutine that receives results.
type ClockMap struct {
	mu     sync.Mutex
	rateHz int
	sent   int64 // provider samples sent so far
	next   int64 // capture index expected next if audio is contiguous
	cps    []checkpoint
}

type checkpoint struct{ provider, capture int64 }

// NewClockMap returns an empty map for audio at rateHz.
func NewClockMap(rateHz int) *ClockMap { return &ClockMap{rateHz: rateHz, next: -1} }

// Sent records that a was sent upstream, right after everything sent
// before it.
func (m *ClockMap) Sent(a stages.Audio) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a.Start != m.next {
		m.cps = append(m.cps, checkpoint{provider: m.sent, capture: a.Start})
	}
	m.sent += a.Samples()
	m.next = a.End()
}

// Skip records that n provider samples that are not capture audio (a
// prefix) were sent before anything else; call it before the first Sent.
// Times inside them map to nothing meaningful: the receiver drops them.
func (m *ClockMap) Skip(n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent += n
}

// SentSamples reports how many samples were sent on this stream.
func (m *ClockMap) SentSamples() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sent
}

// Capture maps provider seconds to capture-clock seconds. Before any audio
// was sent it returns sec unchanged. A time at a discontinuity maps to the
// start of the audio after it.
func (m *ClockMap) Capture(sec float64) float64 { return m.capture(sec, false) }

// CaptureEnd is Capture for the end of a span (a word, a result): a time
// at a discontinuity maps to the end of the audio before it, so that a
// span never stretches over a gap it does not contain.
func (m *ClockMap) CaptureEnd(sec float64) float64 { return m.capture(sec, true) }

func (m *ClockMap) capture(sec float64, end bool) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.cps) == 0 {
		return sec
	}
	p := sec * float64(m.rateHz)
	i := len(m.cps) - 1
	for i > 0 && (float64(m.cps[i].provider) > p || end && float64(m.cps[i].provider) == p) {
		i--
	}
	cp := m.cps[i]
	return sec + stages.SamplesToSeconds(cp.capture-cp.provider, m.rateHz)
}

// MapResult rewrites r's times from provider to capture seconds.
func (m *ClockMap) MapResult(r stages.Result) stages.Result {
	end := m.CaptureEnd(r.StartSec + r.DurationSec)
	r.StartSec = m.Capture(r.StartSec)
	r.DurationSec = max(0, end-r.StartSec)
	for i := range r.Words {
		w := &r.Words[i]
		w.StartSec = m.Capture(w.StartSec)
		w.EndSec = max(w.StartSec, m.CaptureEnd(w.EndSec))
	}
	return r
}
