package emulate

import (
	"encoding/binary"
	"fmt"

	"earshot/stages"
)

// Energy-test thresholds. They are part of EnergyTest's contract: tests
// build signals against them.
const (
	// EnergyFrameMs is the length of one analysis frame.
	EnergyFrameMs = 10
	// EnergyLoudRMS: a frame is loud if its RMS is above this (≈ -30 dBFS).
	EnergyLoudRMS = 1000
	// EnergyGapMs of non-loud frames end a burst.
	EnergyGapMs = 200
	// EnergySpeakerPeak: a burst whose peak |sample| is above this is
	// speaker 1, else speaker 0.
	EnergySpeakerPeak = 16000
)

// EnergyTest returns the deterministic test recognizer. It is NOT speech
// recognition: it finds bursts of loud audio and names each after its start
// time, so that tests can account for every second of audio.
//
// The stream is cut into EnergyFrameMs frames on the stream clock (frame k
// covers samples [k·rate/100, (k+1)·rate/100)). A frame is loud if its RMS is
// above EnergyLoudRMS. A burst starts at a loud frame and ends once
// EnergyGapMs of non-loud frames follow it; its end is the end of its last
// loud frame. Each burst is one word, "t<startMs>" (e.g. "t1500"), with the
// same punctuated form, confidence 1, and speaker 1 if the peak |sample| of
// its loud frames is above EnergySpeakerPeak, else 0.
//
// Partial frames carry over between Accept calls. Flush closes an open burst
// at the end of its last loud frame; a partial frame stays pending and is
// judged once complete, so the frame grid never shifts.
//
// It never fails, holds no resources, and may be called concurrently.
func EnergyTest(sampleRateHz int) (Recognizer, error) {
	return &energy{rate: int64(max(sampleRateHz, 1))}, nil
}

type energy struct {
	rate int64

	frame    int64 // index of the frame being filled
	pending  []int16
	sumSq    int64 // sum of squares of pending
	peak     int   // peak |sample| of pending
	inBurst  bool
	start    int64 // first loud frame of the open burst
	lastLoud int64 // last loud frame of the open burst
	burstPk  int   // peak |sample| over the burst's loud frames
}

// frameLen is the number of samples in frame k.
func (e *energy) frameLen(k int64) int {
	return int((k+1)*e.rate/100 - k*e.rate/100)
}

func (e *energy) Accept(pcm []byte) []stages.Word {
	var words []stages.Word
	for i := 0; i+1 < len(pcm); i += 2 {
		s := int(int16(binary.LittleEndian.Uint16(pcm[i:])))
		e.pending = append(e.pending, int16(s))
		e.sumSq += int64(s) * int64(s)
		e.peak = max(e.peak, s, -s)
		for len(e.pending) >= e.frameLen(e.frame) {
			if w, ok := e.endFrame(); ok {
				words = append(words, w)
			}
		}
	}
	return words
}

// endFrame judges the complete pending frame and advances to the next one.
// It reports the word a burst completes, if any.
func (e *energy) endFrame() (stages.Word, bool) {
	n := int64(len(e.pending))
	loud := n > 0 && e.sumSq > EnergyLoudRMS*EnergyLoudRMS*n
	k, peak := e.frame, e.peak
	e.frame++
	e.pending, e.sumSq, e.peak = e.pending[:0], 0, 0

	switch {
	case loud && !e.inBurst:
		e.inBurst, e.start, e.lastLoud, e.burstPk = true, k, k, peak
	case loud:
		e.lastLoud, e.burstPk = k, max(e.burstPk, peak)
	case e.inBurst && (k-e.lastLoud)*EnergyFrameMs >= EnergyGapMs:
		return e.closeBurst(), true
	}
	return stages.Word{}, false
}

func (e *energy) closeBurst() stages.Word {
	e.inBurst = false
	startMs := e.start * EnergyFrameMs
	name := fmt.Sprintf("t%d", startMs)
	speaker := 0
	if e.burstPk > EnergySpeakerPeak {
		speaker = 1
	}
	return stages.Word{
		Word:       name,
		Punctuated: name,
		StartSec:   float64(startMs) / 1000,
		EndSec:     float64((e.lastLoud+1)*EnergyFrameMs) / 1000,
		Speaker:    speaker,
		Confidence: 1,
	}
}

func (e *energy) Flush() []stages.Word {
	if !e.inBurst {
		return nil
	}
	return []stages.Word{e.closeBurst()}
}
