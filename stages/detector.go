package stages

// SpeechDetector scores one stream's audio for speech, window by window
// (Silero VAD in production).
//
// A detector belongs to one stream: it may carry state from one window to
// the next, and it is not safe for concurrent use. The gate feeds it
// consecutive windows of exactly WindowSamples samples of the stream, at
// the rate the detector was made for (8000 or 16000 Hz), as float32 in
// [-1, 1) (the int16 sample / 32768). It must not retain window after
// Speech returns.
type SpeechDetector interface {
	// WindowSamples is the fixed window size in samples, e.g. 512 at
	// 16 kHz and 256 at 8 kHz for Silero VAD. It must be positive.
	WindowSamples() int
	// Speech returns the probability, in [0, 1], that window holds
	// speech. An error, a panic or a probability outside [0, 1] turns
	// the session's gate off for the rest of the session (fail open).
	Speech(window []float32) (float32, error)
}

// DetectorFactory makes the detector of one stream at sampleRateHz (only
// ever 8000 or 16000). One factory serves every session of a server: it
// must be safe for concurrent use. An error turns that session's gate off
// (fail open).
type DetectorFactory func(sampleRateHz int) (SpeechDetector, error)

// DetectorRateHz is the rate a detector runs at for audio at rateHz: 8 kHz
// audio runs on the 8 kHz branch, every other rate is resampled to 16 kHz
// (for the detector only; the audio sent upstream is never changed).
func DetectorRateHz(rateHz int) int {
	if rateHz == 8000 {
		return 8000
	}
	return 16000
}
