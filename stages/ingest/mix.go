package ingest

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"earshot/stages"
)

// DefaultMixMaxLagMs is the lag NewMixer allows a channel when given none:
// how long the mix waits for a channel behind the others.
const DefaultMixMaxLagMs = 1000

// Mixer sums the audio of a session's channels, sample by sample on their
// capture clocks (each channel's clock counts samples since that
// channel's first frame, so sample i of every channel is sample i of the
// mix), clamped to the int16 range: the mono stream a multi-channel
// session sends downstream.
//
// The mix waits for the slowest channel, but never lags the furthest one
// by more than maxLagMs: from there on a lagging channel is taken as
// silence for what it lacks, so that a channel that went quiet does not
// hold the mix back, and whatever it delivers later for that stretch is
// dropped (LateSamples). Buffered audio is thus at most about maxLagMs
// per channel after each Take, plus what was added since: the consumer
// calls Take after every Add, or every few.
//
// A Mixer is a plain value for one consumer to own (no goroutine): it is
// not safe for concurrent use.
type Mixer struct {
	rateHz int
	maxLag int64 // in samples
	next   int64 // mix-clock index of the next sample to take
	late   int64
	chans  []mixChannel
	sum    []int32 // scratch for mixTo, kept while small
}

// mixChannel is one channel's audio not yet mixed.
type mixChannel struct {
	// end is one past the last capture index the channel gave (audio,
	// or gaps taken as silence).
	end int64
	// spans are the audio given and not yet mixed: in order, apart, all
	// within [Mixer.next, end). What lies between them is silence.
	spans []mixSpan
}

// mixSpan is a run of a channel's samples, a copy of its own.
type mixSpan struct {
	start int64
	pcm   []byte // little-endian int16 samples
}

func (s mixSpan) end() int64 { return s.start + int64(len(s.pcm)/2) }

// NewMixer returns a Mixer of channels channels (numbered 0 to
// channels-1) of sampleRateHz audio that waits at most maxLagMs for a
// lagging channel (DefaultMixMaxLagMs when maxLagMs <= 0). It panics if
// channels < 1 or sampleRateHz <= 0.
func NewMixer(channels, sampleRateHz, maxLagMs int) *Mixer {
	if channels < 1 || sampleRateHz <= 0 {
		panic(fmt.Sprintf("ingest: NewMixer with %d channels at %d Hz", channels, sampleRateHz))
	}
	if maxLagMs <= 0 {
		maxLagMs = DefaultMixMaxLagMs
	}
	return &Mixer{
		rateHz: sampleRateHz,
		maxLag: int64(maxLagMs) * int64(sampleRateHz) / 1000,
		chans:  make([]mixChannel, channels),
	}
}

// Add gives channel ch (0-based; Add panics if it is out of range) audio
// a, at the mixer's sample rate; a.Start is its capture index on the
// channel's clock. Gaps (a.Start beyond what the channel gave so far:
// audio the gate held back, say) count as silence; audio overlapping what
// the channel already gave, gaps included, is ignored for the overlapping
// part; audio the mix has already passed (it took the channel as silence
// there) is dropped and counted (LateSamples). An Audio without PCM (a
// MarkHold, say) changes nothing, and a trailing half sample is ignored.
//
// Add copies what it keeps: the caller still owns a.PCM (and releases it,
// if pooled).
func (m *Mixer) Add(ch int, a stages.Audio) {
	c := &m.chans[ch]
	start, end := a.Start, a.End()
	pcm := a.PCM[:2*a.Samples()]
	if len(pcm) == 0 || end <= c.end {
		return // nothing new
	}
	if start < c.end {
		pcm = pcm[2*(c.end-start):]
		start = c.end
	}
	c.end = end
	if start < m.next {
		n := min(m.next, end) - start
		m.late += n
		pcm = pcm[2*n:]
		start += n
	}
	if len(pcm) > 0 {
		c.spans = append(c.spans, mixSpan{start: start, pcm: slices.Clone(pcm)})
	}
}

// Take returns the mixed audio that is complete: up to the smallest end
// over the channels, except that a channel lagging more than maxLagMs
// behind the furthest channel is taken as silence for what it lacks, up
// to maxLagMs behind the furthest. The Audio's Start is the capture index
// of its first sample on the mix clock, contiguous with the previous Take
// (or Flush); it has no PCM when nothing is complete. The PCM is a new
// slice the caller owns (Pooled is false).
func (m *Mixer) Take() stages.Audio {
	furthest, least := m.chans[0].end, m.chans[0].end
	for _, c := range m.chans[1:] {
		furthest = max(furthest, c.end)
		least = min(least, c.end)
	}
	return m.mixTo(max(least, furthest-m.maxLag))
}

// Flush returns everything left, up to the furthest channel's end, the
// samples any other channel lacks taken as silence: the session ended.
// Like Take's, its Start follows on the previous Take; the Mixer may go on
// after it (anything added before where Flush ended is late).
func (m *Mixer) Flush() stages.Audio {
	var furthest int64
	for _, c := range m.chans {
		furthest = max(furthest, c.end)
	}
	return m.mixTo(furthest)
}

// LateSamples reports how many samples the channels delivered after the
// mix had passed them as silence, dropped; a sample lost on two channels
// counts twice.
func (m *Mixer) LateSamples() int64 { return m.late }

// Buffered reports how many samples of channel ch's audio the Mixer holds,
// not yet taken (gaps, which are silence, take no room and do not count).
func (m *Mixer) Buffered(ch int) int64 {
	var n int64
	for _, s := range m.chans[ch].spans {
		n += int64(len(s.pcm) / 2)
	}
	return n
}

// mixTo mixes and drops the audio from m.next to limit.
func (m *Mixer) mixTo(limit int64) stages.Audio {
	a := stages.Audio{Start: m.next, SampleRateHz: m.rateHz}
	if limit <= m.next {
		return a
	}
	n := int(limit - m.next)
	sum := m.sum
	if cap(sum) < n {
		sum = make([]int32, n)
		if n <= int(m.maxLag)+m.rateHz { // keep the usual sizes only
			m.sum = sum
		}
	}
	sum = sum[:n]
	clear(sum)
	for i := range m.chans {
		c := &m.chans[i]
		done := 0 // spans mixed whole
		for j := range c.spans {
			s := &c.spans[j]
			if s.start >= limit {
				break
			}
			k := min(s.end(), limit) - s.start // samples to mix
			acc := sum[s.start-m.next:][:k]
			for x := range acc {
				acc[x] += int32(int16(binary.LittleEndian.Uint16(s.pcm[2*x:])))
			}
			if k < int64(len(s.pcm)/2) {
				s.pcm = s.pcm[2*k:]
				s.start = limit
				break
			}
			done++
		}
		c.spans = slices.Delete(c.spans, 0, done)
	}
	pcm := make([]byte, 2*n)
	for i, v := range sum {
		binary.LittleEndian.PutUint16(pcm[2*i:], uint16(int16(min(max(v, math.MinInt16), math.MaxInt16))))
	}
	a.PCM = pcm
	m.next = limit
	return a
}
