package sdkpeer

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// Audio format of the signal: 16 kHz mono little-endian 16-bit PCM.
const (
	RateHz       = 16000
	BytesPerMs   = RateHz * 2 / 1000
	FrameMs      = 100
	FrameBytes   = FrameMs * BytesPerMs
	noisePeak    = 64    // RMS ≈ 37, under emulate.EnergyLoudRMS (1000)
	quietAmp     = 8000  // speaker 0 for the energy-test recognizer
	loudAmp      = 20000 // speaker 1 (peak over emulate.EnergySpeakerPeak)
	burstPeriod  = 1000  // one burst per second of audio
	toneHz       = 440
	tailSilentMs = 800 // no burst in the last 800 ms, so every word completes
)

// Burst is one tone burst of the signal: the energy-test recognizer hears
// it as one word.
type Burst struct {
	StartMs, EndMs int
}

// Signal is the audio the clients stream and the words it holds.
type Signal struct {
	PCM    []byte
	Bursts []Burst
}

// Ms is the signal's length in milliseconds.
func (s Signal) Ms() int { return len(s.PCM) / BytesPerMs }

// NewSignal renders durMs of audio: one burst in every second, starting
// 200..500 ms into it and lasting 200..400 ms (in 10 ms steps drawn from a
// fixed seed, so that the gaps between words differ), alternately quiet
// and loud so that the gateway puts each word in its own segment.
func NewSignal(durMs int) Signal {
	n := durMs * RateHz / 1000
	pcm := make([]byte, 2*n)
	rng := rand.New(rand.NewPCG(0x5eed, 0xea75407))
	samples := make([]float64, n)
	for i := range samples {
		samples[i] = float64(rng.IntN(2*noisePeak+1) - noisePeak)
	}
	var bursts []Burst
	for k := 0; ; k++ {
		start := k*burstPeriod + 200 + 10*rng.IntN(31)
		end := start + 200 + 10*rng.IntN(21)
		if end > durMs-tailSilentMs {
			break
		}
		amp := float64(quietAmp)
		if k%2 == 1 {
			amp = loudAmp
		}
		from, to := start*RateHz/1000, end*RateHz/1000
		for i := from; i < to; i++ {
			samples[i] += amp * math.Sin(2*math.Pi*toneHz*float64(i)/RateHz)
		}
		bursts = append(bursts, Burst{start, end})
	}
	for i, v := range samples {
		v = max(min(v, math.MaxInt16), math.MinInt16)
		binary.LittleEndian.PutUint16(pcm[2*i:], uint16(int16(v)))
	}
	return Signal{PCM: pcm, Bursts: bursts}
}
