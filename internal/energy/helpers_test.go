package energy_test

import (
	"encoding/binary"
	"math"
)

// pcm encodes samples as 16-bit little-endian PCM.
func pcm(samples []int16) []byte {
	b := make([]byte, 0, 2*len(samples))
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

// square appends n samples of a square wave of amplitude amp (+amp,
// −amp, ...): its RMS and peak are exactly amp.
func square(dst []int16, n, amp int) []int16 {
	for i := range n {
		v := int16(amp)
		if i%2 == 1 {
			v = -v
		}
		dst = append(dst, v)
	}
	return dst
}

// noise appends n samples of uniform noise in [−amp, amp] (RMS amp/√3),
// from a fixed linear congruential generator seeded by *seed.
func noise(dst []int16, n, amp int, seed *uint32) []int16 {
	for range n {
		*seed = *seed*1664525 + 1013904223
		u := float64(*seed>>8)/(1<<24)*2 - 1
		dst = append(dst, int16(math.Round(u*float64(amp))))
	}
	return dst
}

// ramp returns n samples that differ from frame to frame and from
// sample to sample (so that a frame cut one sample off changes its
// measure), negative full scale included.
func ramp(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(uint16(i*7919 + i*i*13))
	}
	s[0] = -32768
	return s
}

// gridLevel measures samples [from, to) by the definitions, without the
// package: the reference a Meter's frames are checked against.
func gridLevel(samples []int16, from, to int64) (sumSq int64, peak int) {
	for _, s := range samples[from:to] {
		v := int64(s)
		sumSq += v * v
		if a := int(max(v, -v)); a > peak {
			peak = a
		}
	}
	return sumSq, peak
}
