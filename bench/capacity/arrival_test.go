package main

import (
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"
)

const ms = time.Millisecond

func TestPacketOf(t *testing.T) {
	for _, c := range []struct {
		end, dur time.Duration
		want     int64
	}{
		{100 * ms, 100 * ms, 0},
		{1000 * ms, 100 * ms, 9}, // a Results a second in: the 10th frame
		{1000*ms + ms/2, 100 * ms, 9},
		{1000*ms - ms/2, 100 * ms, 9},
		{1060 * ms, 100 * ms, 10}, // ends inside frame 10 (a frame the gate split)
		{20 * ms, 20 * ms, 0},
		{1000 * ms, 20 * ms, 49},
		{1001 * ms, 20 * ms, 49}, // the gateway's millisecond rounding
		{1002 * ms, 20 * ms, 50},
		// Omi's 10 ms Opus packets: the boundaries 10 ms apart, 1 ms
		// either side still the same packet.
		{10 * ms, 10 * ms, 0},
		{1000 * ms, 10 * ms, 99},
		{1010 * ms, 10 * ms, 100},
		{1009 * ms, 10 * ms, 100},
		{1011 * ms, 10 * ms, 100},
		{1012 * ms, 10 * ms, 101},
		{64 * ms, 64 * ms, 0}, // AAC's 1024 samples
		{ms, 10 * ms, -1},
		{0, 10 * ms, -1},
	} {
		td.Cmp(t, packetOf(c.end, c.dur), c.want, "end %v of %v frames", c.end, c.dur)
	}
}

func TestSendRing(t *testing.T) {
	td.Cmp(t, len(newSendRing(1).ns), 64)
	td.Cmp(t, len(newSendRing(100).ns), 128)
	td.Cmp(t, len(newSendRing(2500).ns), 4096)
	td.Cmp(t, len(newSendRing(1e7).ns), 1<<15, "at most 32,768 frames")

	r := newSendRing(64)
	_, ok := r.get(0)
	td.CmpFalse(t, ok, "nothing sent yet")
	for k := range int64(100) {
		r.put(k, 1000+k)
	}
	for _, c := range []struct {
		k  int64
		ok bool
	}{{-1, false}, {0, false}, {35, false}, {36, true}, {99, true}, {100, false}} {
		ns, ok := r.get(c.k)
		td.Cmp(t, ok, c.ok, "frame %d: the last 64 of 100 are kept", c.k)
		if ok {
			td.Cmp(t, ns, 1000+c.k)
		}
	}
}

// session is a synthetic session's send times: frame k due at k·dur from
// t0, sent late by late(k).
func session(frames int, dur time.Duration, late func(k int) time.Duration) (*sendRing, func(k int) int64) {
	const t0 = int64(1_764_000_000_000_000_000)
	sent := func(k int) int64 { return t0 + int64(time.Duration(k)*dur+late(k)) }
	r := newSendRing(frames)
	for k := range frames {
		r.put(int64(k), sent(k))
	}
	return r, sent
}

func noLate(int) time.Duration { return 0 }

// Known origins: the relay's Results and the gateway's gate-off segments
// end where their last frame ends, on the capture clock.
func TestResolveKnownOrigin(t *testing.T) {
	const dur = 10 * ms
	ring, sent := session(500, dur, func(k int) time.Duration { return time.Duration(k%3) * 100 * time.Microsecond })
	var samples []arrivalSample
	lat := []time.Duration{ms, 2 * ms, 30 * ms, 500 * time.Microsecond}
	for i, k := range []int{99, 199, 299, 399} {
		samples = append(samples, arrivalSample{End: time.Duration(k+1) * dur, ArrivalNs: sent(k) + int64(lat[i])})
	}
	var out arrivals
	resolveArrivals(samples, ring, dur, originStreamStart, sent(150), sent(400), &out)
	td.Cmp(t, out, arrivals{Live: []int64{int64(2 * ms), int64(30 * ms), int64(500 * time.Microsecond)}, Groups: 1},
		"the window's frames (sent from frame 150 on, before 400): their latencies exactly")

	out = arrivals{}
	samples[1].Preroll = true
	resolveArrivals(samples, ring, dur, originCapture, 0, sent(499), &out)
	td.Cmp(t, out.Live, []int64{int64(ms), int64(30 * ms), int64(500 * time.Microsecond)})
	td.Cmp(t, out.Preroll, []int64{int64(2 * ms)}, "the gate's pre-roll apart")

	// A sample said to end a frame later than it does: its frame would
	// have been sent after it arrived, which the check reports.
	out = arrivals{}
	resolveArrivals([]arrivalSample{{End: 1010 * ms, ArrivalNs: sent(99) + int64(ms)}}, ring, dur, originCapture, 0, sent(499), &out)
	td.Cmp(t, out.Mismatches, 1)
	td.Cmp(t, out.Live, []int64{sent(99) + int64(ms) - sent(100)}, "negative, as measured")
}

// With the gate active the segments count from the conversation's first
// word, where the gate first opened: calibrated per conversation.
func TestResolveCalibratedOrigin(t *testing.T) {
	const dur = 10 * ms
	ring, sent := session(3000, dur, noLate)
	gateOpened := 7300 * ms // the stream's first audio: the origin
	sample := func(k int, lat time.Duration, conv int) arrivalSample {
		return arrivalSample{End: time.Duration(k+1)*dur - gateOpened, ArrivalNs: sent(k) + int64(lat), Conv: conv}
	}
	samples := []arrivalSample{sample(829, 4*ms, 0), sample(929, 25*ms, 0), sample(1029, 3*ms, 0), sample(1129, 12*ms, 0)}
	var out arrivals
	resolveArrivals(samples, ring, dur, originCalibrated, 0, sent(2999), &out)
	td.Cmp(t, out, arrivals{Live: []int64{int64(4 * ms), int64(25 * ms), int64(3 * ms), int64(12 * ms)}, Groups: 1},
		"exact: a sample under one frame's duration pins the origin")

	// A new conversation counts from its own first word.
	later := 20_000 * ms
	for _, k := range []int{2099, 2199} {
		samples = append(samples, arrivalSample{End: time.Duration(k+1)*dur - later, ArrivalNs: sent(k) + int64(2*ms), Conv: 1})
	}
	out = arrivals{}
	resolveArrivals(samples, ring, dur, originCalibrated, 0, sent(2999), &out)
	td.Cmp(t, out.Groups, 2)
	td.Cmp(t, out.Live, td.Len(6))
	td.Cmp(t, out.Live[4:], []int64{int64(2 * ms), int64(2 * ms)})

	// When every sample took longer than a frame, the calibration cannot
	// tell: it takes one frame's duration off each.
	out = arrivals{}
	resolveArrivals([]arrivalSample{sample(829, 14*ms, 0), sample(929, 25*ms, 0)}, ring, dur, originCalibrated, 0, sent(2999), &out)
	td.Cmp(t, out.Live, []int64{int64(4 * ms), int64(15 * ms)})

	// The known origin is checked the same way: right, no mismatch.
	out = arrivals{}
	resolveArrivals([]arrivalSample{sample(829, 4*ms, 0)}, ring, dur, originStreamStart, 0, sent(2999), &out)
	td.Cmp(t, out.Mismatches, 1, "gate-off's origin 0 is not where this gate opened")
}

// A session longer than its ring forgets its oldest frames: their samples
// are counted as unresolved, the others still map.
func TestResolveAfterTheRingWrapped(t *testing.T) {
	const dur = 20 * ms
	ring, sent := session(100_000, dur, noLate) // 2,000 s: more than 32,768 frames
	samples := []arrivalSample{
		{End: 50 * dur, ArrivalNs: sent(49) + int64(ms)},
		{End: 99_950 * dur, ArrivalNs: sent(99_949) + int64(3*ms)},
		{End: 99_999 * dur, ArrivalNs: sent(99_998) + int64(ms)},
	}
	var out arrivals
	resolveArrivals(samples, ring, dur, originCapture, 0, sent(99_999)+1, &out)
	td.Cmp(t, out, arrivals{Live: []int64{int64(3 * ms), int64(ms)}, Unresolved: 1, Groups: 1})

	out = arrivals{}
	resolveArrivals(samples, ring, dur, originCalibrated, 0, sent(99_999)+1, &out)
	td.Cmp(t, out.Live, []int64{int64(3 * ms), int64(ms)}, "calibrated over the frames still held")
}
