package e2e_test

import (
	"encoding/binary"
	"math"
)

// burst is a tone in a generated test signal. The emulator's energy-test
// recognizer hears each burst as one word named by its start in
// milliseconds ("t500"), speaker 1 when its peak is over 16000.
type burst struct {
	startMs, endMs int
	amplitude      float64
}

// signal renders bursts of a 440 Hz tone over silence as 16-bit PCM.
func signal(rateHz, totalMs int, bursts ...burst) []byte {
	n := rateHz * totalMs / 1000
	pcm := make([]byte, 2*n)
	for _, b := range bursts {
		from, to := rateHz*b.startMs/1000, rateHz*b.endMs/1000
		for i := from; i < to && i < n; i++ {
			v := b.amplitude * math.Sin(2*math.Pi*440*float64(i)/float64(rateHz))
			binary.LittleEndian.PutUint16(pcm[2*i:], uint16(int16(v)))
		}
	}
	return pcm
}

// conversation is the fixture the end-to-end tests stream: two quiet
// bursts (speaker 0), a loud one (speaker 1), a quiet one again.
func conversation(rateHz int) []byte {
	return signal(rateHz, 5000,
		burst{500, 800, 8000},
		burst{1500, 1900, 8000},
		burst{3000, 3400, 20000},
		burst{4000, 4300, 8000},
	)
}
