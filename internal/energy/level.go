// Package energy is the project's one energy speech detector: it cuts
// 16-bit little-endian mono PCM into 10 ms frames, measures each frame,
// and judges frames by one of two rules.
//
//   - The fixed rule, Level.Loud: a frame is loud when its RMS is above
//     LoudRMS. The emulator's deterministic energy-test recognizer and the
//     stream client's SpeechOnset both use it, so that against the
//     emulator the client places its time origin on exactly the frame
//     where the emulator's first word starts.
//   - The adaptive rule, Floor: a frame is speech when its energy is far
//     enough above a minimum-statistics noise floor. The local engine's
//     endpointing uses it.
//
// The grid: frame k of a stream at rate Hz covers samples
// [k·rate/100, (k+1)·rate/100) (integer division), so that frames are
// exactly 10 ms on average at any rate, 22050 and 44100 Hz included, and
// frame k always starts at k·10 ms rounded down to a sample. A Meter cuts
// a stream on that grid; Measure measures any slice of samples.
//
// Units: samples are int16 values; Level.SumSq and Level.MeanSquare are in
// squared sample units, Level.RMS and Level.Peak in sample units, and
// Level.DBFS in decibels relative to FullScale (0 dBFS is a square wave of
// amplitude 32768; a full-scale sine is about −3 dBFS).
//
// Concurrency: Level and Frame are plain values and Measure is pure; a
// Meter or a Floor holds one stream's state and is not safe for
// concurrent use (use one per stream). Past NewMeter nothing allocates,
// except Meter.Append growing the slice it is given.
package energy

import "math"

// The frame and the fixed loudness rule.
const (
	// FrameMs is the length of one analysis frame, in milliseconds.
	FrameMs = 10
	// FramesPerSecond is the number of frames in a second: frame k
	// starts at sample k·rate/FramesPerSecond. Below this rate (in Hz)
	// some frames of the grid hold no sample (see Meter).
	FramesPerSecond = 1000 / FrameMs
	// LoudRMS: a frame is loud when its RMS (in sample units) is above
	// this, that is about −30.3 dBFS (20·log10(1000/32768)). The
	// emulator's energy-test recognizer and the client's speech onset
	// are defined by it.
	LoudRMS = 1000
	// FullScale is the 0 dBFS reference of Level.DBFS, in sample units.
	FullScale = 32768
	// SilenceDBFS is the lowest value of Level.DBFS: the energy of
	// digital silence (and of a frame without samples).
	SilenceDBFS = -100.0
)

// silencePower is 10^(SilenceDBFS/10): the power, relative to full scale,
// added before taking the logarithm so that silence gives SilenceDBFS
// rather than −∞.
const silencePower = 1e-10

// Level is the measurement of a run of samples. The zero Level measures
// no samples.
type Level struct {
	// Samples is the number of samples measured.
	Samples int
	// SumSq is the sum of the squared samples (exact: a frame of up to
	// 2^33 samples cannot overflow it).
	SumSq int64
	// Peak is the largest |sample|: 32768 for a sample of −32768.
	Peak int
}

// Measure returns the Level of samples. It exists for callers that cut
// their own frames (the local engine); a Meter measures a stream on the
// grid.
func Measure(samples []int16) Level {
	var l Level
	for _, s := range samples {
		l.add(s)
	}
	return l
}

// add counts one more sample in l.
func (l *Level) add(s int16) {
	v := int64(s)
	l.Samples++
	l.SumSq += v * v
	l.Peak = max(l.Peak, int(v), int(-v))
}

// MeanSquare is SumSq/Samples, in squared sample units; 0 when there are
// no samples. SumSq converts to float64 exactly for up to 2^23 samples
// (a 10 ms frame at up to 838 MHz), so this is the correctly rounded
// quotient.
func (l Level) MeanSquare() float64 {
	if l.Samples == 0 {
		return 0
	}
	return float64(l.SumSq) / float64(l.Samples)
}

// RMS is the root mean square, in sample units; 0 when there are no
// samples.
func (l Level) RMS() float64 {
	return math.Sqrt(l.MeanSquare())
}

// DBFS is the energy in decibels relative to full scale:
// 10·log10(MeanSquare/FullScale² + 10^(SilenceDBFS/10)), so never below
// SilenceDBFS. (The local engine's floor was tuned on exactly this
// expression; do not rearrange it.)
func (l Level) DBFS() float64 {
	return 10 * math.Log10(l.MeanSquare()/(FullScale*FullScale)+silencePower)
}

// Loud reports the fixed rule: l has samples and its RMS is above
// LoudRMS. It is decided on integers (SumSq > LoudRMS²·Samples), which
// for whole frames is the same as comparing RMS with LoudRMS in float64,
// without rounding at the threshold: a square wave of amplitude 1000 is
// not loud, one of 1001 is.
func (l Level) Loud() bool {
	return l.Samples > 0 && l.SumSq > LoudRMS*LoudRMS*int64(l.Samples)
}
