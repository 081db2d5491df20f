package ingest_test

import (
	"math"
	"math/cmplx"
)

// logSpectralDistance is the mean, over the Hann-windowed frames of n
// samples (a power of two) where ref is not quiet, of the RMS difference
// in dB between the power spectra of ref and got, over the bins below 3/4
// of the Nyquist frequency. It is blind to phase, so a fraction of a
// sample's delay does not count.
func logSpectralDistance(ref, got []int16, n int) float64 {
	win := make([]float64, n)
	for i := range win {
		win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
	}
	a, b := make([]complex128, n), make([]complex128, n)
	top := n * 3 / 8
	var sum float64
	frames := 0
	for off := 0; off+n <= min(len(ref), len(got)); off += n {
		var energy float64
		for i := range n {
			energy += float64(ref[off+i]) * float64(ref[off+i])
			a[i] = complex(win[i]*float64(ref[off+i]), 0)
			b[i] = complex(win[i]*float64(got[off+i]), 0)
		}
		if energy/float64(n) < 100*100 { // quieter than -50 dBFS
			continue
		}
		fft(a)
		fft(b)
		var d float64
		for k := 1; k < top; k++ {
			pa := real(a[k])*real(a[k]) + imag(a[k])*imag(a[k]) + 1e3
			pb := real(b[k])*real(b[k]) + imag(b[k])*imag(b[k]) + 1e3
			x := 10 * math.Log10(pa/pb)
			d += x * x
		}
		sum += math.Sqrt(d / float64(top-1))
		frames++
	}
	if frames == 0 {
		return 0
	}
	return sum / float64(frames)
}

// fft transforms x in place (radix 2; len(x) a power of two).
func fft(x []complex128) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		step := cmplx.Exp(complex(0, -2*math.Pi/float64(size)))
		for start := 0; start < n; start += size {
			w := complex(1, 0)
			for k := range size / 2 {
				u, v := x[start+k], x[start+k+size/2]*w
				x[start+k], x[start+k+size/2] = u+v, u-v
				w *= step
			}
		}
	}
}
