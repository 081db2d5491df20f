//go:build pocketsphinx

package local

import (
	"math"
	"math/rand/v2"

	"earshot/internal/resample"
)

// Narrowband fill: audio below 16 kHz (telephone audio at 8 kHz) has
// nothing above its Nyquist frequency, where the wideband model expects
// some energy; empty bands distort the cepstra (measured on the shared
// clips taken down to 8 kHz: 79% word errors). Faint steady noise in the
// empty band brings that down to 44-49%.
const (
	// fillDB is the level of the fill noise, dBFS (measured: -45 to -55
	// are about equally good; -40 and -60 worse).
	fillDB = -50.0
	// fillLen is the length of the looped noise table (1 s at 16 kHz).
	fillLen = ModelRateHz
	// fillZeros is the half-length of the high-pass filter, in zero
	// crossings.
	fillZeros = 16
)

// newFill returns a loop of noise at fillDB that occupies the band above
// the Nyquist frequency of inRate (up to 8 kHz), or nil when inRate
// leaves no band empty. The noise is the same for every stream
// (fixed seed), so decoding stays repeatable.
func newFill(inRate int) []int16 {
	if inRate >= ModelRateHz {
		return nil
	}
	// High-pass = all-pass minus a low-pass at the input's Nyquist
	// frequency, in units of the model's Nyquist frequency.
	fc := float64(inRate) / ModelRateHz
	half := int(math.Ceil(fillZeros / fc))
	taps := make([]float64, 2*half+1)
	for k := range taps {
		x := float64(k - half)
		taps[k] = -fc * resample.Sinc(fc*x) * resample.Blackman(x/float64(half+1))
	}
	taps[half]++
	rng := rand.New(rand.NewPCG(0x65617273, 0x686f74)) // "earshot"
	white := make([]float64, fillLen)
	for i := range white {
		white[i] = rng.NormFloat64()
	}
	out := make([]float64, fillLen)
	var power float64
	for i := range out {
		var acc float64
		for k, w := range taps {
			// Circular, so that the loop has no seam.
			acc += w * white[(i+k-half+fillLen)%fillLen]
		}
		out[i] = acc
		power += acc * acc
	}
	gain := 32768 * math.Pow(10, fillDB/20) / math.Sqrt(power/fillLen)
	fill := make([]int16, fillLen)
	for i, v := range out {
		fill[i] = resample.Clamp16(float32(v * gain))
	}
	return fill
}

// addFill writes pcm plus the fill (looped from stream sample at) to dst.
func addFill(dst, pcm, fill []int16, at int64) []int16 {
	dst = dst[:0]
	j := int(at % int64(len(fill)))
	for _, v := range pcm {
		dst = append(dst, resample.Clamp16(float32(v)+float32(fill[j])))
		if j++; j == len(fill) {
			j = 0
		}
	}
	return dst
}
