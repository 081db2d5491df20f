package main

import (
	"sort"
	"time"
)

// The client → upstream latency of frames that carry no stamp (device
// codecs), measured from the Results' arrival words (see stampWord): each
// periodic Results says when the last frame it covers reached the
// upstream; the segment (or, from the relay, the Results) that brings the
// word back ends where that frame ends, on the session's capture clock;
// the frame whose end it is was sent at a time the session recorded
// (sendRing). One sample per Results and session.
//
// Where the segment times count from (origin modes):
//   - originCapture: the relay passes the raw Results, whose start and
//     duration are the stream's time, which is the capture clock since
//     the relay forwards every frame;
//   - originStreamStart: the gateway's segment times count from its
//     conversation's origin, the start of its first word, which the
//     upstream puts at the stream's time 0 (see upStream.final): with the
//     gate off the stream starts with the session's first audio, so the
//     origin is capture 0;
//   - originCalibrated: with the gate active the stream starts at the
//     first speech's pre-roll, where the gate first opened, which the
//     client does not know. The origin is calibrated per session and
//     conversation: the latest (in whole milliseconds) at which every
//     sample maps to a frame sent no later than its arrival. A later
//     origin by one frame would make every sample with a latency under
//     one frame's duration negative, so the calibration is exact when at
//     least one sample of the session has such a latency (at low load,
//     all of them), and otherwise takes a frame's duration off that
//     session's samples. With the known origins the calibration runs
//     too, as a check (Mismatches).
const (
	originCapture     = "capture"
	originStreamStart = "stream-start"
	originCalibrated  = "calibrated"
)

// boundaryTol: a segment end up to this far after a frame boundary is that
// frame's end (the gateway rounds segment times to whole milliseconds).
const boundaryTol = time.Millisecond

// sendRing records when a session sent each of its frames, by frame
// number: frame k is the k-th frame time of the session's schedule (with
// several channels, its first channel's message), in slot k mod the
// ring's size until frame k+size takes the slot. Written by the session's
// writer alone, in order, without allocating; read after it ended.
type sendRing struct {
	ns   []int64
	next int64 // frames recorded: 0 to next-1, the last len(ns) of them kept
}

// newSendRing returns a ring for about frames frames: the power of two at
// or above it, 64 to 32,768 (a session longer than that wraps: its oldest
// frames are forgotten).
func newSendRing(frames int) *sendRing {
	size := 64
	for size < frames && size < 1<<15 {
		size *= 2
	}
	return &sendRing{ns: make([]int64, size)}
}

// put records that frame k, the next frame (k == the frames recorded), was
// sent at ns.
func (r *sendRing) put(k, ns int64) {
	r.ns[k&int64(len(r.ns)-1)] = ns
	r.next = k + 1
}

// get returns frame k's send time; ok is false when k was not sent (yet),
// or was sent so long ago that a later frame took its slot.
func (r *sendRing) get(k int64) (ns int64, ok bool) {
	if k < 0 || k >= r.next || k < r.next-int64(len(r.ns)) {
		return 0, false
	}
	return r.ns[k&int64(len(r.ns)-1)], true
}

// packetOf is the frame (of frames of dur, frame 0 starting at 0) whose
// end is at end: the frame holding the instant just before end, with
// boundaryTol for rounding (-1 when end is not after 0).
func packetOf(end, dur time.Duration) int64 {
	x := end - boundaryTol
	if x <= 0 {
		return -1
	}
	return int64((x+dur-1)/dur) - 1
}

// arrivalSample is one arrival word brought back: End is the segment's
// end (since the conversation's origin, or on the capture clock; see the
// origin modes), ArrivalNs the last frame's arrival upstream (Unix ns),
// Conv the conversation it belongs to (0, 1, ... as the gateway starts
// them).
type arrivalSample struct {
	End       time.Duration
	ArrivalNs int64
	Preroll   bool
	Conv      int
}

// arrivals is what a session's samples resolve to (see resolveArrivals).
type arrivals struct {
	// Live and Preroll: arrival minus send time (ns) of the samples whose
	// frame was sent in the window, live frames and the gate's pre-roll.
	Live, Preroll []int64
	// Unresolved counts samples whose frame the ring does not hold, or
	// whose conversation could not be calibrated.
	Unresolved int
	// Groups counts the conversations calibrated; Mismatches those of
	// them with a known origin where the calibration maps a sample to
	// another frame than the known origin does.
	Groups, Mismatches int
}

// resolveArrivals maps samples (in arrival order) to the frames of ring
// (frames of dur) with origins as mode says, and adds the latencies of
// those sent in [from, to) to out.
func resolveArrivals(samples []arrivalSample, ring *sendRing, dur time.Duration, mode string, from, to int64, out *arrivals) {
	for len(samples) > 0 {
		n := 1
		for n < len(samples) && samples[n].Conv == samples[0].Conv {
			n++
		}
		g := samples[:n]
		samples = samples[n:]
		cal, calOK := calibrate(g, ring, dur)
		origin, known := time.Duration(0), mode == originCapture || mode == originStreamStart && g[0].Conv == 0
		out.Groups++
		switch {
		case known && (!calOK || !sameFrames(g, cal, 0, dur)):
			out.Mismatches++
		case !known && !calOK:
			out.Unresolved += len(g)
			continue
		case !known:
			origin = cal
		}
		for _, s := range g {
			sent, ok := ring.get(packetOf(s.End+origin, dur))
			switch {
			case !ok:
				out.Unresolved++
			case sent < from || sent >= to:
			case s.Preroll:
				out.Preroll = append(out.Preroll, s.ArrivalNs-sent)
			default:
				out.Live = append(out.Live, s.ArrivalNs-sent)
			}
		}
	}
}

// calibrate returns the latest origin, in whole milliseconds, at which
// every sample of g whose frame ring holds maps to a frame sent no later
// than the sample's arrival, and false when not even 0 does. The later the
// origin, the later the frames, so the search bisects.
func calibrate(g []arrivalSample, ring *sendRing, dur time.Duration) (time.Duration, bool) {
	feasible := func(origin time.Duration) bool {
		for _, s := range g {
			k := packetOf(s.End+origin, dur)
			if k >= ring.next {
				return false
			}
			if sent, ok := ring.get(k); ok && sent > s.ArrivalNs {
				return false
			}
		}
		return true
	}
	n := int((time.Duration(ring.next+1)*dur)/time.Millisecond) + 2
	f := sort.Search(n, func(i int) bool { return !feasible(time.Duration(i) * time.Millisecond) })
	if f == 0 {
		return 0, false
	}
	return time.Duration(f-1) * time.Millisecond, true
}

// sameFrames reports whether origins a and b map every sample of g to the
// same frame.
func sameFrames(g []arrivalSample, a, b, dur time.Duration) bool {
	for _, s := range g {
		if packetOf(s.End+a, dur) != packetOf(s.End+b, dur) {
			return false
		}
	}
	return true
}
