package client

import (
	"encoding/binary"
	"math"
)

// Speech detection, used to place the conversation's time origin on the
// stream and to decide whether a session should have produced segments.
const (
	// OnsetFrameMs is the analysis frame of SpeechOnset.
	OnsetFrameMs = 10
	// OnsetRMS is the RMS (of 16-bit samples) above which a frame counts
	// as speech: about -30 dBFS. It equals the emulator's energy-test
	// threshold, so that against `earshot emulate` the origin is exact.
	OnsetRMS = 1000
)

// SpeechOnset returns the start, in seconds, of the first OnsetFrameMs
// frame of 16-bit little-endian mono pcm whose RMS is above OnsetRMS, and
// false when there is none (the audio is silence or quiet noise). Frames
// are cut on the grid k·rate/100 samples, like the emulator's.
func SpeechOnset(pcm []byte, rate int) (float64, bool) {
	n := len(pcm) / 2
	for k := 0; ; k++ {
		from, to := k*rate/100, (k+1)*rate/100
		if to > n || to == from {
			return 0, false
		}
		var sum float64
		for i := from; i < to; i++ {
			v := float64(int16(binary.LittleEndian.Uint16(pcm[2*i:])))
			sum += v * v
		}
		if math.Sqrt(sum/float64(to-from)) > OnsetRMS {
			return float64(from) / float64(rate), true
		}
	}
}
