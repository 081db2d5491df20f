package emulate

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// DefaultModel is reported in model_info when the client sends no model.
const DefaultModel = "nova-3"

// maxSampleRateHz bounds sample_rate; higher rates are refused with 400.
const maxSampleRateHz = 384000

// streamParams are the query parameters that change what a stream sends.
// Every parameter is kept verbatim in StreamSummary.Params; the others
// (language, endpointing, interim_results, ...) are accepted and ignored.
type streamParams struct {
	sampleRateHz int
	model        string
	// punctuate (punctuate or smart_format) adds punctuated_word to words
	// and makes the transcript use the punctuated forms (see wordForm).
	punctuate bool
	// diarize adds speaker and speaker_confidence to words.
	diarize bool
}

// parseParams checks the query of an upgrade. The emulator serves raw
// linear16 mono audio only: encoding must be "linear16", sample_rate a
// positive integer (at most 384000) and channels, if present, 1. Errors wrap
// ErrBadParams and carry a message fit for err_msg.
func parseParams(q url.Values) (streamParams, error) {
	p := streamParams{model: DefaultModel}
	switch enc := q.Get("encoding"); enc {
	case "linear16":
	case "":
		return p, fmt.Errorf("%w: encoding is required (this emulator serves encoding=linear16 only)", ErrBadParams)
	default:
		return p, fmt.Errorf("%w: encoding %q is not supported (this emulator serves encoding=linear16 only)", ErrBadParams, enc)
	}
	rate, err := strconv.Atoi(q.Get("sample_rate"))
	if err != nil || rate <= 0 || rate > maxSampleRateHz {
		return p, fmt.Errorf("%w: sample_rate must be an integer in 1..%d for encoding=linear16", ErrBadParams, maxSampleRateHz)
	}
	p.sampleRateHz = rate
	if ch := q.Get("channels"); ch != "" && ch != "1" {
		return p, fmt.Errorf("%w: channels must be 1 (this emulator serves mono audio only)", ErrBadParams)
	}
	if m := q.Get("model"); m != "" {
		p.model = m
	}
	p.punctuate = boolParam(q, "punctuate") || boolParam(q, "smart_format")
	p.diarize = boolParam(q, "diarize")
	return p, nil
}

// boolParam reads a Deepgram boolean: "true" (any case) is true, anything
// else false.
func boolParam(q url.Values, key string) bool {
	return strings.EqualFold(q.Get(key), "true")
}
