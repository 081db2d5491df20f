package stages

import "context"

// StreamConfig describes the audio a session sends upstream and how it wants
// it recognised. Providers map it onto their own parameters.
type StreamConfig struct {
	// SampleRateHz is the rate of the linear16 audio sent with SendAudio.
	SampleRateHz int
	// Channels is the number of interleaved channels in that audio (1 for
	// now).
	Channels int
	// Language is the session's language code ("en", "multi", ...).
	Language string
}

// Provider opens upstream speech-to-text streams. A Provider is shared by
// every session of a server and must be safe for concurrent use.
//
// Providers implement only the wire protocol: they never sleep, retry, run
// timers or own channels. Retry, backoff, KeepAlive timing and reconnects
// live in the connector stage.
type Provider interface {
	// Name is the provider's name as reported to clients in a segment's
	// stt_provider field (e.g. "deepgram").
	Name() string
	// Dial opens one stream. It returns promptly when ctx is done. A refused
	// or failed dial returns an error that Classify understands (usually an
	// *UpstreamError); ctx's cancellation yields ctx's error.
	Dial(ctx context.Context, cfg StreamConfig) (Stream, error)
}

// Paced is implemented by a Provider whose streams must not take audio
// much faster than real time (Soniox disconnects prolonged bursts): the
// connector sends a replay to it at most Factor times real time, beyond
// a first burst of BurstMs.
type Paced interface {
	ReplayPace() (factor float64, burstMs int)
}

// Control is a control message sent on a stream.
type Control int

const (
	// ControlKeepAlive keeps an idle stream open without sending audio.
	ControlKeepAlive Control = iota + 1
	// ControlFinalize asks the provider to flush what it has heard so far
	// as final results. The stream stays open.
	ControlFinalize
	// ControlCloseStream asks the provider to flush, send its last results
	// and end the stream; Recv then returns io.EOF.
	ControlCloseStream
)

// String names the control message.
func (c Control) String() string {
	switch c {
	case ControlKeepAlive:
		return "KeepAlive"
	case ControlFinalize:
		return "Finalize"
	case ControlCloseStream:
		return "CloseStream"
	default:
		return "Control(?)"
	}
}

// Stream is one upstream recognition stream.
//
// Concurrency: one goroutine may call SendAudio and SendControl while
// another calls Recv. Close is safe to call at any time from any goroutine,
// more than once, and unblocks every pending call.
//
// Contexts: the ctx passed to SendAudio, SendControl and Recv is the
// stream's lifetime, not a per-call deadline; with a WebSocket, a ctx that
// ends mid-call tears the whole connection down. Callers pass a context
// that does not expire and end the stream with Close.
//
// Ends: Recv has the final word on how a stream ended (a send can fail
// before the close frame has been read). A normal close that was not asked
// for with ControlCloseStream is not a normal end. The receiver of a Result
// owns its Words.
type Stream interface {
	// SendAudio sends linear16 audio. pcm is not retained after return and
	// is never empty.
	SendAudio(ctx context.Context, pcm []byte) error
	// SendControl sends a control message.
	SendControl(ctx context.Context, c Control) error
	// Recv returns the next result. Times in a Result are provider seconds
	// since the start of this stream. After the provider ended the stream
	// normally (CloseStream answered, close 1000) it returns io.EOF; any
	// other end returns an error that Classify understands.
	Recv(ctx context.Context) (Result, error)
	// Close ends the stream at once, without waiting for results.
	Close() error
}

// Word is one recognised word.
type Word struct {
	// Word is the bare recognised word.
	Word string
	// Punctuated is the word with punctuation and casing; when a provider
	// has none it equals Word.
	Punctuated string
	// StartSec and EndSec are seconds on the clock of whoever produced the
	// Result (provider time from a Stream, capture time after the
	// connector).
	StartSec, EndSec float64
	// Speaker is the diarized speaker index (0 when unknown).
	Speaker int
	// Confidence is in [0, 1].
	Confidence float64
}

// Result is one transcript result from a provider.
type Result struct {
	// Words in time order. Empty results carry no words.
	Words []Word
	// StartSec and DurationSec give the span of audio the result covers.
	StartSec, DurationSec float64
	// IsFinal marks a result that will not be revised.
	IsFinal bool
	// SpeechFinal marks an endpoint (the speaker paused).
	SpeechFinal bool
	// FromFinalize marks a result produced by ControlFinalize.
	FromFinalize bool
	// Stream numbers the upstream stream that produced the result within
	// its connector: 1 for the first stream, one more for each stream
	// opened after it (a reconnect). A stream's diarization starts over,
	// so Word.Speaker labels are scoped to Stream. Set by the connector;
	// providers leave it 0.
	Stream int
	// Provider is the Name of the provider that produced the result (a
	// session with a chain of providers may change provider). Set by the
	// connector; providers leave it empty.
	Provider string
}
