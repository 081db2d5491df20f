package emulate

import (
	"fmt"

	"earshot/internal/energy"
	"earshot/stages"
)

// Energy-test thresholds. They are part of EnergyTest's contract: tests
// build signals against them.
const (
	// EnergyFrameMs is the length of one analysis frame (energy.FrameMs).
	EnergyFrameMs = energy.FrameMs
	// EnergyLoudRMS: a frame is loud if its RMS is above this (≈ -30 dBFS);
	// it is energy.LoudRMS, the rule the client's SpeechOnset uses too.
	EnergyLoudRMS = energy.LoudRMS
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
// its loud frames is above EnergySpeakerPeak, else 0. Framing and loudness
// are energy.Meter's and energy.Level.Loud's. It does not implement Speech:
// with punctuate the server sends the names as they are ("t1500", not
// "T1500.").
//
// Partial frames carry over between Accept calls. Flush closes an open burst
// at the end of its last loud frame; a partial frame stays pending and is
// judged once complete, so the frame grid never shifts.
//
// It never fails, holds no resources, and may be called concurrently.
func EnergyTest(sampleRateHz int) (Recognizer, error) {
	return &energyTest{meter: energy.NewMeter(sampleRateHz)}, nil
}

// energyTest is EnergyTest's recognizer: the bursts of one stream.
type energyTest struct {
	meter  *energy.Meter
	frames []energy.Frame // scratch: the frames one Accept completes

	inBurst  bool
	start    int64 // first loud frame of the open burst
	lastLoud int64 // last loud frame of the open burst
	burstPk  int   // peak |sample| over the burst's loud frames
}

func (e *energyTest) Accept(pcm []byte) []stages.Word {
	// Accept takes whole samples (the server carries an odd byte over
	// itself); a stray odd byte is dropped, as it always was, rather
	// than carried into the next call as energy.Meter would.
	e.frames = e.meter.Append(e.frames[:0], pcm[:len(pcm)&^1])
	var words []stages.Word
	for _, f := range e.frames {
		if w, ok := e.judge(f); ok {
			words = append(words, w)
		}
	}
	return words
}

// judge takes the next complete frame. It reports the word a burst
// completes, if any.
func (e *energyTest) judge(f energy.Frame) (stages.Word, bool) {
	k := f.Index
	switch loud := f.Loud(); {
	case loud && !e.inBurst:
		e.inBurst, e.start, e.lastLoud, e.burstPk = true, k, k, f.Peak
	case loud:
		e.lastLoud, e.burstPk = k, max(e.burstPk, f.Peak)
	case e.inBurst && (k-e.lastLoud)*EnergyFrameMs >= EnergyGapMs:
		return e.closeBurst(), true
	}
	return stages.Word{}, false
}

func (e *energyTest) closeBurst() stages.Word {
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

func (e *energyTest) Flush() []stages.Word {
	if !e.inBurst {
		return nil
	}
	return []stages.Word{e.closeBurst()}
}
