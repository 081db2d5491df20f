// Package codectest holds what the codec bindings' tests share: a test
// signal and an SNR that finds the codec's delay. It is for tests only.
package codectest

import "math"

// Signal is n samples at rate Hz of three steady tones (300, 1100 and
// 2500 Hz) and a linear chirp from 200 Hz to 5 kHz, peaking near -6 dBFS.
func Signal(n, rate int) []int16 {
	out := make([]int16, n)
	dur := float64(n) / float64(rate)
	for i := range out {
		out[i] = int16(math.Round(SignalAt(float64(i)/float64(rate), dur) * 32767))
	}
	return out
}

// SignalAt is Signal (dur seconds long) at t seconds, full scale ±1, and
// 0 outside it.
func SignalAt(t, dur float64) float64 {
	if t < 0 || t >= dur {
		return 0
	}
	return 0.15*math.Sin(2*math.Pi*300*t) +
		0.1*math.Sin(2*math.Pi*1100*t) +
		0.05*math.Sin(2*math.Pi*2500*t) +
		0.2*math.Sin(2*math.Pi*(200*t+(5000-200)/(2*dur)*t*t))
}

// AlignedSNR finds the lag (0..maxLag samples) by which out best
// correlates with ref, and returns it with the SNR in dB of out against
// ref at that lag, over ref[skip:] (the codec's start-up excluded).
func AlignedSNR(ref, out []int16, maxLag, skip int) (lag int, snr float64) {
	best := math.Inf(-1)
	for l := 0; l <= maxLag && l < len(out); l++ {
		var c float64
		for i := skip; i < len(ref) && i+l < len(out); i++ {
			c += float64(ref[i]) * float64(out[i+l])
		}
		if c > best {
			best, lag = c, l
		}
	}
	var sig, noise float64
	for i := skip; i < len(ref) && i+lag < len(out); i++ {
		d := float64(ref[i]) - float64(out[i+lag])
		sig += float64(ref[i]) * float64(ref[i])
		noise += d * d
	}
	return lag, 10 * math.Log10(sig/max(noise, 1))
}
