// Package resample converts streams of audio samples from one rate to
// another: a windowed-sinc (Blackman) low-pass filter evaluated at exact
// rational positions, with state kept across calls so that frame
// boundaries are seamless. The embedded recognizer uses it to bring audio
// to its model's rate, and the VAD gate to feed its detector; audio sent
// upstream is never resampled.
package resample

import "math"

// Filter tuning.
const (
	// zeros is the number of zero crossings of the windowed sinc on each
	// side, at the lower of the two rates.
	zeros = 16
	// cutoff places the low-pass edge at this fraction of the lower
	// rate's Nyquist frequency.
	cutoff = 0.92
	// maxPhases bounds the phase table; ratios needing more phases use
	// the nearest one (timing error under 1/1000 sample).
	maxPhases = 512
)

// Resampler converts one stream. Output sample n lies at input position
// n·in/out; the output lags the input by half the filter (about a
// millisecond at 16 kHz). Not safe for concurrent use; one stream uses
// either Float or Int16, not both.
type Resampler struct {
	up, down int64     // out/g and in/g, g = gcd(in, out)
	half     int       // taps on each side of the position
	phases   int64     // rows of table
	table    []float32 // phases × 2·half weights
	hist     []float32 // input samples from histBase on
	histBase int64     // input index of hist[0]
	next     int64     // next output index
}

// New returns a resampler from inRate to outRate, both in Hz and > 0.
func New(inRate, outRate int) *Resampler {
	g := gcd(inRate, outRate)
	up, down := int64(outRate/g), int64(inRate/g)
	ratio := min(1, float64(up)/float64(down))
	fc := cutoff * ratio // in units of the input's Nyquist frequency
	half := int(math.Ceil(zeros / ratio))
	phases := min(up, maxPhases)
	taps := 2 * half
	r := &Resampler{up: up, down: down, half: half, phases: phases, table: make([]float32, int(phases)*taps)}
	w := make([]float64, taps)
	for p := range phases {
		frac := float64(p) / float64(phases)
		var sum float64
		for k := range taps {
			// Tap k weighs input i0-half+1+k; x is its distance to
			// the position i0+frac.
			x := float64(k-half+1) - frac
			w[k] = fc * Sinc(fc*x) * Blackman(x/float64(half))
			sum += w[k]
		}
		row := r.table[int(p)*taps : int(p+1)*taps]
		for k := range taps {
			row[k] = float32(w[k] / sum) // unit gain at DC
		}
	}
	// Zeros before the first sample, so that output 0 is centred on
	// input 0.
	r.hist = make([]float32, half, 4096)
	r.histBase = -int64(half)
	return r
}

// Float appends the resampled form of in (full scale ±1) to out, clamped
// to [-1, 1] (no ringing past full scale), and returns it.
func (r *Resampler) Float(out, in []float32) []float32 {
	r.hist = append(r.hist, in...)
	for {
		acc, ok := r.step()
		if !ok {
			break
		}
		out = append(out, min(max(acc, -1), 1))
	}
	r.trim()
	return out
}

// Int16 appends the resampled form of in to out, rounded and clamped to
// int16, and returns it.
func (r *Resampler) Int16(out, in []int16) []int16 {
	for _, s := range in {
		r.hist = append(r.hist, float32(s))
	}
	for {
		acc, ok := r.step()
		if !ok {
			break
		}
		out = append(out, Clamp16(acc))
	}
	r.trim()
	return out
}

// step computes the next output sample, if the input held reaches far
// enough.
func (r *Resampler) step() (float32, bool) {
	pos := r.next * r.down
	i0 := pos / r.up
	p := pos % r.up
	if r.phases < r.up { // nearest phase
		p = (2*p*r.phases + r.up) / (2 * r.up)
		if p == r.phases {
			p, i0 = 0, i0+1
		}
	}
	if i0+int64(r.half) >= r.histBase+int64(len(r.hist)) {
		return 0, false
	}
	taps := 2 * r.half
	row := r.table[int(p)*taps : int(p+1)*taps]
	from := int(i0 - int64(r.half) + 1 - r.histBase)
	h := r.hist[from : from+taps]
	var a0, a1, a2, a3 float32 // four chains: fewer dependency stalls
	k := 0
	for ; k+3 < taps; k += 4 {
		a0 += row[k] * h[k]
		a1 += row[k+1] * h[k+1]
		a2 += row[k+2] * h[k+2]
		a3 += row[k+3] * h[k+3]
	}
	for ; k < taps; k++ {
		a0 += row[k] * h[k]
	}
	r.next++
	return (a0 + a1) + (a2 + a3), true
}

// trim drops the input no later output needs.
func (r *Resampler) trim() {
	need := r.next*r.down/r.up - int64(r.half) + 1
	if drop := int(need - r.histBase); drop > 0 {
		drop = min(drop, len(r.hist))
		r.hist = r.hist[:copy(r.hist, r.hist[drop:])]
		r.histBase += int64(drop)
	}
}

// Clamp16 rounds v to the nearest int16, saturating.
func Clamp16(v float32) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	case v < 0:
		return int16(v - 0.5)
	}
	return int16(v + 0.5)
}

// Sinc is the normalised sinc, sin(πx)/(πx).
func Sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// Blackman is the Blackman window on [-1, 1] (0 outside).
func Blackman(x float64) float64 {
	if x <= -1 || x >= 1 {
		return 0
	}
	return 0.42 + 0.5*math.Cos(math.Pi*x) + 0.08*math.Cos(2*math.Pi*x)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
