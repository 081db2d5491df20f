package emulate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// sonioxModelPrefix starts the name of every real-time Soniox model
// ("stt-rt-v4", "stt-rt-preview").
const sonioxModelPrefix = "stt-rt"

// sonioxDefaultLanguage is the tokens' language when the start message
// has no language_hints.
const sonioxDefaultLanguage = "en"

// sonioxStart is what a valid start message asks of a stream.
type sonioxStart struct {
	model  string
	rateHz int
	// language is every token's language: the first language hint, else
	// sonioxDefaultLanguage.
	language string
	// diarize (enable_speaker_diarization) adds speaker to word tokens.
	diarize bool
	// endpoints (enable_endpoint_detection) adds the <end> marker after
	// each utterance.
	endpoints bool
}

// startError is a start message the emulator refuses. Msg is sent as the
// error_message of the 400 error response.
type startError struct {
	Msg string
	Err error // the decoding error, if any
}

func (e *startError) Error() string {
	if e.Err != nil {
		return "emulate: bad start message: " + e.Msg + ": " + e.Err.Error()
	}
	return "emulate: bad start message: " + e.Msg
}

func (e *startError) Unwrap() error { return e.Err }

func badStart(format string, args ...any) *startError {
	return &startError{Msg: fmt.Sprintf(format, args...)}
}

// parseSonioxStart checks a stream's first text message and returns what
// it asks, with its members for StreamSummary.Params. It must be a JSON
// object with model ("stt-rt…"), audio_format "pcm_s16le", sample_rate
// (an integer in 1..384000) and num_channels 1; language_hints (a list of
// strings), enable_speaker_diarization and enable_endpoint_detection
// (booleans) are optional. Keys match exactly; other members (context,
// translation, …) are accepted and ignored. Errors are *startError.
func parseSonioxStart(b []byte) (sonioxStart, url.Values, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return sonioxStart{}, nil, &startError{
			Msg: "Invalid start request: the first message must be a JSON object with the configuration, sent before any audio.",
			Err: err,
		}
	}
	st := sonioxStart{language: sonioxDefaultLanguage}
	var model, format string
	var rate, channels *int // nil: absent
	var hints []string
	for _, f := range []struct {
		key string
		dst any
		msg string // for a mistyped member
	}{
		{"model", &model, "Invalid model specified: model must be a string."},
		{"audio_format", &format, "audio_format must be a string."},
		{"sample_rate", &rate, fmt.Sprintf("sample_rate must be an integer in 1..%d for pcm_s16le.", maxSampleRateHz)},
		{"num_channels", &channels, "num_channels must be an integer."},
		{"language_hints", &hints, "language_hints must be a list of strings."},
		{"enable_speaker_diarization", &st.diarize, "enable_speaker_diarization must be a boolean."},
		{"enable_endpoint_detection", &st.endpoints, "enable_endpoint_detection must be a boolean."},
	} {
		raw, ok := m[f.key]
		if !ok || bytes.Equal(raw, []byte("null")) {
			continue
		}
		if err := json.Unmarshal(raw, f.dst); err != nil {
			return st, nil, &startError{Msg: f.msg, Err: err}
		}
	}
	switch {
	case model == "":
		return st, nil, badStart("Missing model.")
	case !strings.HasPrefix(model, sonioxModelPrefix):
		return st, nil, badStart("Invalid model specified: %q (real-time models are %s-*).", model, sonioxModelPrefix)
	case format == "":
		return st, nil, badStart("Missing audio_format.")
	case format != "pcm_s16le":
		return st, nil, badStart("Unsupported audio_format %q: this emulator serves pcm_s16le only.", format)
	case rate == nil:
		return st, nil, badStart("sample_rate is required for raw audio formats.")
	case *rate <= 0 || *rate > maxSampleRateHz:
		return st, nil, badStart("sample_rate must be an integer in 1..%d for pcm_s16le.", maxSampleRateHz)
	case channels == nil:
		return st, nil, badStart("num_channels is required for raw audio formats.")
	case *channels != 1:
		return st, nil, badStart("num_channels must be 1: this emulator serves mono audio only.")
	}
	st.model, st.rateHz = model, *rate
	if len(hints) > 0 && hints[0] != "" {
		st.language = hints[0]
	}
	return st, startParams(m), nil
}

// startParams flattens a start message's members for StreamSummary.Params:
// a string as it is, a list of strings as one value each, any other value
// as its compact JSON text. The deprecated api_key member is left out so
// that no key is kept.
func startParams(m map[string]json.RawMessage) url.Values {
	q := url.Values{}
	for k, raw := range m {
		if k == "api_key" {
			continue
		}
		var s string
		var list []string
		switch {
		case json.Unmarshal(raw, &s) == nil:
			q.Set(k, s)
		case json.Unmarshal(raw, &list) == nil && list != nil:
			q[k] = list
		default:
			var buf bytes.Buffer
			if json.Compact(&buf, raw) != nil { // cannot happen: raw is valid JSON
				buf.Reset()
				buf.Write(raw)
			}
			q.Set(k, buf.String())
		}
	}
	return q
}
