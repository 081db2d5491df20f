package energy

import "encoding/binary"

// Frame is one measured frame of a stream.
type Frame struct {
	// Index is k, the frame's place on the stream's grid, from 0. Frame
	// k starts k·FrameMs milliseconds into the stream (rounded down to
	// a sample).
	Index int64
	// Start is k·rate/FramesPerSecond: the stream sample (from 0) where
	// the frame starts.
	Start int64
	// Level measures the frame's samples: at rates of FramesPerSecond
	// Hz and above, exactly the samples [Start, Start+Level.Samples).
	Level
}

// Meter cuts one stream of 16-bit little-endian mono PCM into frames on
// the grid (frame k covers samples [k·rate/100, (k+1)·rate/100)) and
// measures each. Writes may be of any size, odd byte counts included: a
// partial frame, and a byte of a partial sample, carry over to the next
// Append, so the frames do not depend on where the stream is split.
//
// Below FramesPerSecond Hz, where a frame of the grid holds 0 or 1
// sample, the meter keeps the emulator's historical behaviour: sample 0
// is counted in frame 0 and sample j > 0 in the grid frame of sample j−1
// (frames without a sample are still emitted, empty).
//
// A Meter is not safe for concurrent use.
type Meter struct {
	rate  int64
	frame int64 // index of the frame being filled
	cur   Level // its samples so far
	odd   byte  // the first byte of a partial sample...
	isOdd bool  // ...when there is one
}

// NewMeter returns a Meter for a stream at rateHz samples per second
// (rates below 1 are taken as 1). The first frame it emits is frame 0.
func NewMeter(rateHz int) *Meter {
	return &Meter{rate: int64(max(rateHz, 1))}
}

// Append measures pcm, appends every frame it completes to dst, in
// order, and returns the extended slice (nil when dst is nil and no frame
// completed). The frame in progress is not emitted until its last sample
// arrives, however long the stream pauses. pcm is not retained.
func (m *Meter) Append(dst []Frame, pcm []byte) []Frame {
	if len(pcm) == 0 {
		return dst
	}
	if m.isOdd {
		m.isOdd = false
		m.cur.add(int16(uint16(m.odd) | uint16(pcm[0])<<8))
		dst = m.complete(dst)
		pcm = pcm[1:]
	}
	for len(pcm) >= 2 {
		// At least one sample goes in before the frame is judged: that
		// is what puts sample 0 in frame 0 below FramesPerSecond Hz.
		take := min(max(m.frameLen(m.frame)-m.cur.Samples, 1), len(pcm)/2)
		for i := range take {
			m.cur.add(int16(binary.LittleEndian.Uint16(pcm[2*i:])))
		}
		pcm = pcm[2*take:]
		dst = m.complete(dst)
	}
	if len(pcm) == 1 {
		m.odd, m.isOdd = pcm[0], true
	}
	return dst
}

// complete emits the frame being filled while it is full, and the empty
// frames that follow it (only below FramesPerSecond Hz).
func (m *Meter) complete(dst []Frame) []Frame {
	for m.cur.Samples >= m.frameLen(m.frame) {
		dst = append(dst, Frame{Index: m.frame, Start: m.start(m.frame), Level: m.cur})
		m.frame++
		m.cur = Level{}
	}
	return dst
}

// Pending returns the samples of the frame being filled, measured so far
// (a byte of a partial sample is not counted), and its index.
func (m *Meter) Pending() (index int64, l Level) {
	return m.frame, m.cur
}

// start is the first sample of frame k.
func (m *Meter) start(k int64) int64 {
	return k * m.rate / FramesPerSecond
}

// frameLen is the number of samples of frame k on the grid.
func (m *Meter) frameLen(k int64) int {
	return int(m.start(k+1) - m.start(k))
}
