package silero

import (
	"math"
	"math/bits"
)

// fftPlan computes the magnitude spectrum of a real frame of n samples
// (a power of two, at least 8): an m = n/2 point complex FFT of the even
// and odd samples packed as one complex signal, then the split into n/2+1
// bins.
type fftPlan struct {
	n, m int
	// rev is the bit-reversal permutation of 0..m-1.
	rev []uint16
	// twRe, twIm hold, for the stage of half-size h (2, 4, ... m/2), the
	// twiddles e^{-iπk/h} for k < h at [h-1 : 2h-1].
	twRe, twIm []float32
	// spRe, spIm hold e^{-2πik/n} for k <= m (the split's).
	spRe, spIm []float32
}

// newFFTPlan prepares the tables for real frames of n samples.
func newFFTPlan(n int) fftPlan {
	m := n / 2
	p := fftPlan{n: n, m: m, rev: make([]uint16, m)}
	shift := bits.UintSize - bits.Len(uint(m-1))
	for i := range m {
		p.rev[i] = uint16(bits.Reverse(uint(i)) >> shift)
	}
	p.twRe = make([]float32, m)
	p.twIm = make([]float32, m)
	for h := 1; h < m; h <<= 1 {
		for k := range h {
			s, c := math.Sincos(-math.Pi * float64(k) / float64(h))
			p.twRe[h-1+k], p.twIm[h-1+k] = float32(c), float32(s)
		}
	}
	for k := 0; k <= m; k++ {
		s, c := math.Sincos(-2 * math.Pi * float64(k) / float64(n))
		p.spRe = append(p.spRe, float32(c))
		p.spIm = append(p.spIm, float32(s))
	}
	return p
}

// magnitudes writes |DFT(x·window)| for bins 0..n/2 into mag, using re
// and im (m values each) as scratch.
func (p *fftPlan) magnitudes(x, window, re, im, mag []float32) {
	m := p.m
	x, window, re, im = x[:2*m], window[:2*m], re[:m], im[:m]
	// Windowed samples packed as complex values in bit-reversed order.
	for i, r := range p.rev[:m] {
		re[r] = x[2*i] * window[2*i]
		im[r] = x[2*i+1] * window[2*i+1]
	}
	// Radix-2 stages; the first (twiddle 1) on its own.
	for j := 0; j+1 < m; j += 2 {
		ar, ai, br, bi := re[j], im[j], re[j+1], im[j+1]
		re[j], im[j], re[j+1], im[j+1] = ar+br, ai+bi, ar-br, ai-bi
	}
	for h := 2; h < m; h <<= 1 {
		wr, wi := p.twRe[h-1:2*h-1], p.twIm[h-1:2*h-1]
		for start := 0; start < m; start += 2 * h {
			ar, ai := re[start:start+h], im[start:start+h]
			br, bi := re[start+h:start+2*h], im[start+h:start+2*h]
			ai, br, bi = ai[:len(ar)], br[:len(ar)], bi[:len(ar)]
			wr, wi := wr[:len(ar)], wi[:len(ar)]
			for k := range ar {
				tr := wr[k]*br[k] - wi[k]*bi[k]
				ti := wr[k]*bi[k] + wi[k]*br[k]
				br[k], bi[k] = ar[k]-tr, ai[k]-ti
				ar[k] += tr
				ai[k] += ti
			}
		}
	}
	// Split: X[k] = E[k] + e^{-2πik/n}·O[k] with
	// E[k] = (Z[k] + conj Z[m-k])/2 and O[k] = (Z[k] - conj Z[m-k])/2i.
	mag = mag[:m+1]
	mag[0] = abs32(re[0] + im[0])
	mag[m] = abs32(re[0] - im[0])
	spRe, spIm := p.spRe[:m], p.spIm[:m]
	for k := 1; k < m; k++ {
		zr, zi := re[k], im[k]
		yr, yi := re[m-k], im[m-k]
		er, ei := 0.5*(zr+yr), 0.5*(zi-yi)
		or, oi := 0.5*(zi+yi), -0.5*(zr-yr)
		cr, ci := spRe[k], spIm[k]
		xr := er + cr*or - ci*oi
		xi := ei + cr*oi + ci*or
		mag[k] = sqrt32(xr*xr + xi*xi)
	}
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
