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
	// empty only on a MarkFinalize.
	PCM []byte
	// Start is the capture-clock index of the first sample in PCM (of the
	// sample after the audio it refers to, on a MarkFinalize).
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

// Mark is what the VAD gate tells the connector along with the audio it
// sends. It is the whole contract between the two beyond the audio itself:
// the gate never sends controls upstream (the connector owns KeepAlive and
// every control message).
type Mark uint8

const (
	// MarkNone is plain audio that may hold speech.
	MarkNone Mark = iota
	// MarkFinalize carries no PCM: the gate saw the speech end (it has
	// sent FinalizeSilenceMs of silence since) and asks the connector to
	// have the upstream finalize what it heard so far (ControlFinalize),
	// unless final results already cover it. It is a request, not audio:
	// it never enters the replay ring, is never replayed, and does not
	// reset the KeepAlive or pause timers. On no open stream it is
	// dropped (the replayed audio is finalized by the pause watch).
	MarkFinalize
	// MarkQuiet is audio the gate sends after a MarkFinalize with no
	// speech since (the rest of a hangover): silence whose words were
	// already asked for, so the connector's own pause Finalize
	// (ConnectorConfig.FinalizeIdleMs) does not ask again for it.
	MarkQuiet
)

// String names the mark.
func (m Mark) String() string {
	switch m {
	case MarkNone:
		return "none"
	case MarkFinalize:
		return "finalize"
	case MarkQuiet:
		return "quiet"
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
