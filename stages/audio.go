package stages

// Audio is a run of mono, little-endian, signed 16-bit PCM samples placed on
// a session's capture clock.
//
// The capture clock counts samples since the first audio frame of the
// session (per channel). Every later transformation (gating, reconnects,
// replay) maps provider time back onto this clock, so that segment times are
// always capture times.
type Audio struct {
	// PCM holds whole samples (an even number of bytes). The receiver of an
	// Audio owns PCM; the sender must not touch it after sending.
	PCM []byte
	// Start is the capture-clock index of the first sample in PCM.
	Start int64
	// SampleRateHz is the sample rate of PCM in Hz.
	SampleRateHz int
}

// Samples reports how many samples PCM holds.
func (a Audio) Samples() int64 { return int64(len(a.PCM) / 2) }

// End is the capture-clock index one past the last sample in PCM.
func (a Audio) End() int64 { return a.Start + a.Samples() }

// SamplesToSeconds converts a count of samples at rateHz to seconds.
func SamplesToSeconds(samples int64, rateHz int) float64 {
	if rateHz <= 0 {
		return 0
	}
	return float64(samples) / float64(rateHz)
}
