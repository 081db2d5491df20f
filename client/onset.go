package client

import "earshot/internal/energy"

// Speech detection, used to place the conversation's time origin on the
// stream and to decide whether a session should have produced segments.
const (
	// OnsetFrameMs is the analysis frame of SpeechOnset (energy.FrameMs).
	OnsetFrameMs = energy.FrameMs
	// OnsetRMS is the RMS (of 16-bit samples) above which a frame counts
	// as speech: about -30 dBFS. It is energy.LoudRMS, the emulator's
	// energy-test threshold, so that against `earshot emulate` the
	// origin is exact.
	OnsetRMS = energy.LoudRMS
)

// onsetChunk is the audio SpeechOnset measures at a time, in bytes: it
// stops at the first loud frame without measuring (or holding frames for)
// the rest.
const onsetChunk = 8 << 10

// SpeechOnset returns the start, in seconds, of the first OnsetFrameMs
// frame of 16-bit little-endian mono pcm whose RMS is above OnsetRMS, and
// false when there is none (the audio is silence or quiet noise). Frames
// are cut on the grid k·rate/100 samples, like the emulator's (both use
// energy.Meter and energy.Level.Loud); a trailing partial frame is not
// judged.
func SpeechOnset(pcm []byte, rate int) (float64, bool) {
	// Below 100 Hz a 10 ms frame holds no whole sample: the onset has
	// never been looked for there (the emulator, which must answer any
	// sample_rate, still judges such audio).
	if rate < energy.FramesPerSecond {
		return 0, false
	}
	m := energy.NewMeter(rate)
	var frames []energy.Frame
	for len(pcm) > 0 {
		n := min(len(pcm), onsetChunk)
		frames = m.Append(frames[:0], pcm[:n])
		pcm = pcm[n:]
		for _, f := range frames {
			if f.Loud() {
				return float64(f.Start) / float64(rate), true
			}
		}
	}
	return 0, false
}
