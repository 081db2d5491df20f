package testrig

import (
	"encoding/binary"
	"math"
)

// Burst is a tone in a generated test signal. The emulator's energy-test
// recognizer hears each burst as one word named by its start in
// milliseconds of stream time ("t500"), speaker 1 when its peak is over
// 16000.
type Burst struct {
	StartMs, EndMs int
	Amplitude      float64
}

// Signal renders bursts of a 440 Hz tone over silence as 16-bit
// little-endian PCM lasting totalMs.
func Signal(rateHz, totalMs int, bursts ...Burst) []byte {
	n := rateHz * totalMs / 1000
	pcm := make([]byte, 2*n)
	for _, b := range bursts {
		from, to := rateHz*b.StartMs/1000, rateHz*b.EndMs/1000
		for i := from; i < to && i < n; i++ {
			v := b.Amplitude * math.Sin(2*math.Pi*440*float64(i)/float64(rateHz))
			binary.LittleEndian.PutUint16(pcm[2*i:], uint16(int16(v)))
		}
	}
	return pcm
}

// Conversation is 5 s with two quiet bursts (speaker 0), a loud one
// (speaker 1) and a quiet one again.
func Conversation(rateHz int) []byte {
	return Signal(rateHz, 5000,
		Burst{500, 800, 8000},
		Burst{1500, 1900, 8000},
		Burst{3000, 3400, 20000},
		Burst{4000, 4300, 8000},
	)
}

// Alternating renders n bursts of 300 ms, one a second from 0.5 s,
// alternating quiet (speaker 0) and loud (speaker 1), so that every burst
// is a segment of its own. It returns the audio and each burst's start in
// seconds.
func Alternating(rateHz, n int) ([]byte, []float64) {
	bursts := make([]Burst, 0, n)
	starts := make([]float64, 0, n)
	for i := range n {
		amp := 8000.0
		if i%2 == 1 {
			amp = 20000
		}
		startMs := 500 + 1000*i
		bursts = append(bursts, Burst{startMs, startMs + 300, amp})
		starts = append(starts, float64(startMs)/1000)
	}
	return Signal(rateHz, 1000*n+500, bursts...), starts
}
