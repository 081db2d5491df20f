package ingest_test

import (
	"slices"
	"testing"

	"earshot/stages"
	"earshot/stages/ingest"
)

// refMixer is the Mixer's contract done the plain way: every channel's
// whole clock in one slice, gaps written out as silence.
type refMixer struct {
	maxLag, next, late int64
	chans              [][]int16 // index = capture index; len = what the channel gave
}

func (r *refMixer) add(ch int, start int64, samples []int16) {
	c := r.chans[ch]
	for i, v := range samples {
		at := start + int64(i)
		if at < int64(len(c)) {
			continue // given already
		}
		for int64(len(c)) < at {
			c = append(c, 0) // a gap
		}
		if at < r.next {
			r.late++
			v = 0 // the mix passed it; never read again
		}
		c = append(c, v)
	}
	r.chans[ch] = c
}

func (r *refMixer) mixTo(limit int64) []int16 {
	var out []int16
	for ; r.next < limit; r.next++ {
		var sum int32
		for _, c := range r.chans {
			if r.next < int64(len(c)) {
				sum += int32(c[r.next])
			}
		}
		out = append(out, int16(min(max(sum, -32768), 32767)))
	}
	return out
}

func (r *refMixer) ends() (least, furthest int64) {
	least = int64(len(r.chans[0]))
	for _, c := range r.chans {
		least, furthest = min(least, int64(len(c))), max(furthest, int64(len(c)))
	}
	return least, furthest
}

// FuzzMixer runs a Mixer and refMixer over the same Adds, Takes and
// Flushes: they agree on every sample, on Start and on LateSamples, and no
// channel holds more than maxLag samples after a Take.
func FuzzMixer(f *testing.F) {
	f.Add(uint8(2), uint8(20), []byte{0, 0, 10, 1, 0, 1, 0, 5, 2, 0, 0, 0, 1, 40, 30, 7, 2, 0, 0, 0, 3, 0, 0, 0})
	f.Add(uint8(3), uint8(5), []byte{0, 0, 200, 9, 1, 0, 255, 63, 2, 0, 0, 0, 1, 0, 0, 255, 3, 0, 0, 0})
	f.Fuzz(func(t *testing.T, channels, lag uint8, ops []byte) {
		n := int(channels)%4 + 1
		maxLag := int(lag)%50 + 1 // ms = samples, at mixRate
		m := ingest.NewMixer(n, mixRate, maxLag)
		r := &refMixer{maxLag: int64(maxLag), chans: make([][]int16, n)}
		var next int64
		check := func(what string, a stages.Audio, want []int16) {
			t.Helper()
			got := samplesOf([]stages.Audio{a})
			if a.Start != next || !slices.Equal(got, want) {
				t.Fatalf("%s at %d: got %v at %d, want %v", what, next, got, a.Start, want)
			}
			next = a.End()
		}
		for ; len(ops) >= 4; ops = ops[4:] {
			op, ch := ops[0]%4, int(ops[0]>>2)%n
			switch op {
			case 0, 1: // Add: a start relative to what ch gave, a length, values
				given := int64(len(r.chans[ch]))
				start := max(0, given+int64(int8(ops[1]))) // back or ahead
				samples := make([]int16, ops[2]%64)
				for i := range samples {
					samples[i] = int16(int(ops[3])*0x0101 + i*7919)
				}
				m.Add(ch, stages.Audio{PCM: pcmOf(samples...), Start: start, SampleRateHz: mixRate})
				r.add(ch, start, samples)
			case 2: // Take
				least, furthest := r.ends()
				check("take", m.Take(), r.mixTo(max(least, furthest-r.maxLag)))
				for c := range n {
					if b := m.Buffered(c); b > r.maxLag {
						t.Fatalf("channel %d holds %d samples after a Take, more than %d", c, b, r.maxLag)
					}
				}
			case 3: // Flush
				_, furthest := r.ends()
				check("flush", m.Flush(), r.mixTo(furthest))
			}
			if m.LateSamples() != r.late {
				t.Fatalf("late samples: got %d, want %d", m.LateSamples(), r.late)
			}
		}
		_, furthest := r.ends()
		check("last flush", m.Flush(), r.mixTo(furthest))
		for c := range n {
			if b := m.Buffered(c); b != 0 {
				t.Fatalf("channel %d holds %d samples after the last Flush", c, b)
			}
		}
	})
}
