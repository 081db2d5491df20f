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
	// Audio owns PCM; the sender must not touch it after sending. It is
	// empty on a MarkHold.
	PCM []byte
	// Start is the capture-clock index of the first sample in PCM (on a
	// MarkHold, of the first sample held back).
	Start int64
	// SampleRateHz is the sample rate of PCM in Hz.
	SampleRateHz int
	// Mark is what the gate knows about this audio; MarkNone on everything
	// that did not pass an active gate.
	Mark Mark
	// Pooled reports that PCM is a whole buffer from NewFrame, owned by
	// the receiver, which gives it back with ReleaseFrame when it is done
	// with the audio (frames.go has the rules).
	Pooled bool
}

// Mark is what the VAD gate knows about the audio it sends: facts about
// speech and silence, and where they start. It is the whole contract
// between the gate and the connector beyond the audio itself: the gate
// never sends controls upstream and never asks for one; the connector
// makes every Finalize decision from these facts (and owns KeepAlive and
// every other control message).
type Mark uint8

const (
	// MarkNone is audio the gate did not judge (gate off or shadow, or
	// failed open): it may hold speech.
	MarkNone Mark = iota
	// MarkSpeech is audio of an utterance: speech, or the pre-roll an
	// active gate sends with a speech onset.
	MarkSpeech
	// MarkSilence is silence after speech that an active gate still
	// sends (the hangover). A silence starts at the first MarkSilence
	// after other audio and runs, contiguous, until the next MarkSpeech,
	// MarkNone or MarkHold.
	MarkSilence
	// MarkHold carries no PCM: from Start on, an active gate holds the
	// audio back (its hangover ended), so a gap in the capture indices
	// sent starts there. It never enters the replay ring and does not
	// reset any timer.
	MarkHold
)

// String names the mark.
func (m Mark) String() string {
	switch m {
	case MarkNone:
		return "none"
	case MarkSpeech:
		return "speech"
	case MarkSilence:
		return "silence"
	case MarkHold:
		return "hold"
	default:
		return "Mark(?)"
	}
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

// Split cuts a after n samples (clamped to [0, a.Samples()]). The parts
// share a's array but neither can grow into the other, and neither owns
// it (Pooled is cleared): whoever owns a still releases it.
func (a Audio) Split(n int64) (head, tail Audio) {
	n = max(0, min(n, a.Samples()))
	a.Pooled = false
	head, tail = a, a
	head.PCM = a.PCM[: 2*n : 2*n]
	tail.PCM = a.PCM[2*n:]
	tail.Start = a.Start + n
	return head, tail
}
