package pipeline

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"earshot/internal/clip"
	"earshot/protocol"
	"earshot/stages/ingest"
)

// Params are a listen session's validated query parameters
// (spec/listen-protocol.md).
type Params struct {
	// Language is the provider language ("auto" is mapped to "multi").
	Language string
	// SampleRateHz of the client's audio.
	SampleRateHz int
	// Codec of the client's binary frames.
	Codec ingest.Codec
	// Channels in the session: 1, or 2 and more for a multi-channel
	// session, whose binary frames are [1-byte channel id][payload]
	// (ids 1..Channels; 1 is the user's microphone). Config.MaxChannels
	// bounds it further.
	Channels int
	// IncludeSpeechProfile asks for the user's speech profile.
	IncludeSpeechProfile bool
	// ConversationTimeoutSec ends a conversation after this much silence;
	// raised to at least 120; -1 on the wire means 4 h.
	ConversationTimeoutSec int
	// Source names the client kind ("omi", "desktop", ...), free text.
	Source string
	// VADGate is the per-session gate override: "" (the server's mode),
	// "enabled" (active) or "disabled" (off).
	VADGate string
	// UID is the uid parameter: the user id the app claims. With static
	// keys it is the session's (unauthenticated) user id; a signed
	// token's subject takes its place when the client sent one.
	UID string
	// App holds the parameters the Omi app sends that the gateway does
	// not act on, kept for logs and later use. Never fatal.
	App AppParams
}

// AppParams are parameters the Omi app sends (ListenRequest) that earshot
// accepts and does not act on, each clipped to printable text of at most
// appValueBytes. Any other unknown parameter is ignored too.
type AppParams struct {
	// STTService is the provider the app would like ("soniox", ...); the
	// gateway's --stt decides.
	STTService string
	// CustomSTT "enabled" means the app transcribes on the device and
	// sends suggested_transcript messages; earshot transcribes anyway.
	CustomSTT string
	// Onboarding, SpeakerAutoAssign and CreateSpeakers are app features
	// earshot does not have (onboarding questions, automatic speaker
	// naming, speaker creation).
	Onboarding, SpeakerAutoAssign, CreateSpeakers string
	// CallID and ClientConversationID identify a phone call and the
	// app's own conversation.
	CallID, ClientConversationID string
}

// MaxChannels is the most channels a session may have at all (a
// server's Config.MaxChannels may allow fewer).
const MaxChannels = 8

// Limits of the parameters.
const (
	minSampleRateHz          = 8000
	maxSampleRateHz          = 48000
	minConversationTimeout   = 120
	foreverConversationSec   = 4 * 60 * 60
	defaultSampleRateHz      = 8000
	defaultConversationTOSec = 120
)

// ParseParams validates a /v4/listen query against the accepted languages.
// Its errors are *ParamError (wrapping ErrBadParam): their text names the
// problem and is sent to the client as the close reason, with 1008, or
// 1003 for a codec this build cannot decode at the session's rate.
// Parameters it does not know, and those of AppParams whatever their
// value, are never an error.
func ParseParams(q url.Values, languages []string) (Params, error) {
	p := Params{
		Language:               "en",
		SampleRateHz:           defaultSampleRateHz,
		Codec:                  ingest.CodecPCM8,
		Channels:               1,
		IncludeSpeechProfile:   true,
		ConversationTimeoutSec: defaultConversationTOSec,
		Source:                 clip.Printable(q.Get("source"), appValueBytes),
		UID:                    clip.Printable(q.Get("uid"), appValueBytes),
		App: AppParams{
			STTService:           clip.Printable(q.Get("stt_service"), appValueBytes),
			CustomSTT:            clip.Printable(q.Get("custom_stt"), appValueBytes),
			Onboarding:           clip.Printable(q.Get("onboarding"), appValueBytes),
			SpeakerAutoAssign:    clip.Printable(q.Get("speaker_auto_assign"), appValueBytes),
			CreateSpeakers:       clip.Printable(q.Get("create_speakers"), appValueBytes),
			CallID:               clip.Printable(q.Get("call_id"), appValueBytes),
			ClientConversationID: clip.Printable(q.Get("client_conversation_id"), appValueBytes),
		},
	}
	if v := q.Get("language"); v != "" {
		p.Language = v
	}
	if p.Language == "auto" {
		p.Language = "multi"
	}
	if !slices.Contains(languages, p.Language) {
		return p, badParam("The language is not supported, %s", clip.Printable(p.Language, valueBytes))
	}
	if v := q.Get("sample_rate"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return p, badParam("sample_rate must be a positive integer, got %s", quote(v))
		}
		if n < minSampleRateHz || n > maxSampleRateHz {
			return p, badParam("sample_rate %d out of range %d-%d", n, minSampleRateHz, maxSampleRateHz)
		}
		p.SampleRateHz = n
	}
	if v := q.Get("codec"); v != "" {
		c, err := ingest.ParseCodec(v, p.SampleRateHz)
		if err != nil {
			return p, &ParamError{Reason: err.Error(), Code: protocol.CloseUnsupportedData}
		}
		p.Codec = c
	}
	if v := q.Get("channels"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxChannels {
			return p, badParam("channels must be 1 to %d, got %s", MaxChannels, quote(v))
		}
		p.Channels = n
	}
	if v := q.Get("include_speech_profile"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return p, badParam("include_speech_profile must be true or false")
		}
		p.IncludeSpeechProfile = b
	}
	if v := q.Get("conversation_timeout"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			return p, badParam("conversation_timeout must be an integer")
		case n == -1:
			p.ConversationTimeoutSec = foreverConversationSec
		case n < minConversationTimeout:
			p.ConversationTimeoutSec = minConversationTimeout
		default:
			p.ConversationTimeoutSec = n
		}
	}
	switch v := q.Get("vad_gate"); v {
	case "", "enabled", "disabled":
		p.VADGate = v
	default:
		return p, badParam("vad_gate must be enabled or disabled")
	}
	return p, nil
}

// appValueBytes is the most of a client-supplied parameter the gateway
// keeps.
const appValueBytes = 128

// valueBytes is the most of a client-supplied value a close reason or a
// log line repeats.
const valueBytes = 24

// quote is a clipped client value in double quotes.
func quote(s string) string { return `"` + clip.Printable(s, valueBytes) + `"` }

// ParamError is a rejected query parameter. Its text is the close reason
// sent to the client; it wraps ErrBadParam.
type ParamError struct {
	Reason string
	// Code is the close code: protocol.ClosePolicyViolation (1008) for a
	// bad parameter, protocol.CloseUnsupportedData (1003) for an audio
	// format the server cannot decode; 0 means 1008.
	Code int
}

// CloseCode is the WebSocket close code the session is refused with.
func (e *ParamError) CloseCode() int {
	if e.Code == 0 {
		return protocol.ClosePolicyViolation
	}
	return e.Code
}

func (e *ParamError) Error() string { return e.Reason }

// Unwrap returns ErrBadParam.
func (e *ParamError) Unwrap() error { return ErrBadParam }

func badParam(format string, args ...any) error {
	return &ParamError{Reason: fmt.Sprintf(format, args...)}
}

// rings is how many replay rings (upstream sockets) the session holds:
// one per channel.
func (p Params) rings() int { return max(p.Channels, 1) }

// duration is how long n bytes of the session's audio last (16-bit PCM,
// Channels interleaved, at SampleRateHz).
func (p Params) duration(n int) time.Duration {
	samples := int64(n / 2 / max(p.Channels, 1))
	return time.Duration(samples * int64(time.Second) / int64(p.SampleRateHz))
}
