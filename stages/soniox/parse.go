package soniox

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"earshot/stages"
)

// Marker tokens.
const (
	markerEnd = "<end>" // endpoint: the utterance ended
	markerFin = "<fin>" // a finalize was answered
)

// Bounds on what a Parser keeps between responses; larger buffers are
// dropped after use.
const (
	maxKeptTokens = 1024
	maxKeptWords  = 1024
)

// Parser turns the JSON responses of one Soniox stream into Results. It
// joins final sub-word tokens into words and ignores non-final tokens;
// the last word of a response is held until a later final token shows it
// complete, a marker or "finished" flushes it, or Flush does at the
// stream's end.
//
// Joining, token by token:
//   - a token that begins with a space begins a new word, once the word
//     held so far has a letter or digit;
//   - a token with a letter or digit also begins a new word when its
//     speaker differs from the held word's, or when it or the held word
//     is in a script written without spaces (Han, Hiragana, Katakana):
//     there every token is a word of its own;
//   - any other token continues the held word: sub-word pieces and
//     punctuation without a leading space ("," "." "?" a closing quote);
//   - punctuation with a leading space (an opening quote, a dash) begins
//     the next word's text, as written ("\"Hello", "— next");
//   - punctuation that arrives with no word held (after a marker) closes
//     the last word completed in the same response, else it is dropped;
//   - markers (<end>, <fin>), empty tokens and translations never become
//     words.
//
// Words: Word is the text's letters (with their combining marks) and
// digits, lower-cased, with inner apostrophes; Punctuated the text as written, trimmed; StartSec and
// EndSec come from the first and last token's start_ms and end_ms;
// Speaker is Soniox's label as a 0-based index ("1" is 0, "2" is 1; an
// absent, empty, non-numeric or implausibly large label is 0); Confidence is the tokens'
// minimum, clamped to [0, 1].
//
// Results: IsFinal is always set. StartSec and DurationSec cover the
// stream's audio without gaps: each Result starts where the previous one
// ended and ends at its last word, or, for the last Result of a response,
// at final_audio_proc_ms when no word is held (at the held word's start
// otherwise), so a connector acknowledges no audio whose words it has not
// received.
//
// A Parser belongs to one stream (its state spans responses) and must not
// be used by two goroutines at once. The zero value is ready to use; the
// Results it returns never alias its buffers.
type Parser struct {
	m           wireResponse
	cur         heldWord
	batch       []stages.Word // words completed for the next Result
	batchEndMs  float64       // the batch's last end
	coveredMs   float64       // where the last Result ended
	resultMs    float64       // where the last Result started
	lastStartMs float64       // token times so far (clampTimes)
	lastEndMs   float64
	finished    bool
}

// Parse decodes one text frame and appends the Results it completes to
// dst, in order: one for the words before each <end> (SpeechFinal) or
// <fin> (FromFinalize) marker, even if empty, and one for the other words
// it completed, if any. A response saying "finished": true completes the
// held word too, and Finished reports true from then on.
//
// Errors leave dst as it was: an error response gives the
// *stages.UpstreamError described by responseError (wrapping
// ErrResponse), a frame that is not a JSON response a retryable one
// wrapping ErrMalformed. Upstream text in errors is bounded and stripped
// of control characters; Parse does not know the API key, so Stream.Recv
// scrubs it.
func (p *Parser) Parse(dst []stages.Result, frame []byte) ([]stages.Result, error) {
	p.reset()
	m := &p.m
	if err := json.Unmarshal(frame, m); err != nil {
		return dst, &stages.UpstreamError{
			Reason: "malformed response",
			Err:    fmt.Errorf("%w: %w", ErrMalformed, err),
		}
	}
	if m.ErrorCode != 0 || m.ErrorMessage != "" {
		return dst, responseError(int(m.ErrorCode), m.ErrorMessage, "")
	}
	n := len(dst)
	for i := range m.Tokens {
		t := &m.Tokens[i]
		if !t.IsFinal || t.TranslationStatus == "translation" {
			continue
		}
		switch strings.TrimSpace(t.Text) {
		case markerEnd:
			p.complete(dst[n:])
			dst = p.emit(dst, true, false)
		case markerFin:
			p.complete(dst[n:])
			dst = p.emit(dst, false, true)
		default:
			p.addToken(dst[n:], t)
		}
	}
	if m.Finished {
		p.finished = true
		p.complete(dst[n:])
	}
	if len(p.batch) > 0 {
		dst = p.emit(dst, false, false)
	}
	if len(dst) > n {
		safe := m.FinalAudioProcMs
		if p.cur.held {
			safe = min(safe, p.cur.startMs)
		}
		if safe > p.coveredMs {
			p.coveredMs = safe
			dst[len(dst)-1].DurationSec = (safe - p.resultMs) / 1000
		}
	}
	return dst, nil
}

// Flush completes the held word and returns it as a Result, for a stream
// that ended normally; ok is false when nothing was held.
func (p *Parser) Flush() (res stages.Result, ok bool) {
	p.complete(nil)
	if len(p.batch) == 0 {
		return stages.Result{}, false
	}
	return p.emit(nil, false, false)[0], true
}

// Finished reports whether a response said "finished": true.
func (p *Parser) Finished() bool { return p.finished }

// emit appends the batch's words as a Result.
func (p *Parser) emit(dst []stages.Result, speechFinal, fromFinalize bool) []stages.Result {
	start := p.coveredMs
	end := max(start, p.batchEndMs)
	res := stages.Result{
		StartSec:     start / 1000,
		DurationSec:  (end - start) / 1000,
		IsFinal:      true,
		SpeechFinal:  speechFinal,
		FromFinalize: fromFinalize,
	}
	if len(p.batch) > 0 {
		res.Words = slices.Clone(p.batch)
		clear(p.batch)
		p.batch = p.batch[:0]
	}
	p.coveredMs, p.resultMs = end, start
	return append(dst, res)
}

// reset zeroes the response for the next frame, keeping bounded buffers.
// encoding/json decodes into existing slice elements without zeroing
// them, so stale tokens are cleared here.
func (p *Parser) reset() {
	toks := p.m.Tokens
	if cap(toks) > maxKeptTokens {
		toks = nil
	}
	clear(toks[:cap(toks)])
	p.m = wireResponse{Tokens: toks[:0]}
	if cap(p.batch) > maxKeptWords {
		p.batch = nil
	}
}

// wireResponse is the union of the fields Parse reads from a response.
type wireResponse struct {
	Tokens           []wireToken `json:"tokens"`
	FinalAudioProcMs float64     `json:"final_audio_proc_ms"`
	Finished         bool        `json:"finished"`
	ErrorCode        codeNumber  `json:"error_code"`
	ErrorMessage     string      `json:"error_message"`
}

type wireToken struct {
	Text              string       `json:"text"`
	StartMs           float64      `json:"start_ms"`
	EndMs             float64      `json:"end_ms"`
	Confidence        float64      `json:"confidence"`
	IsFinal           bool         `json:"is_final"`
	Speaker           speakerLabel `json:"speaker"`
	TranslationStatus string       `json:"translation_status"`
}

// speakerLabel decodes a speaker label, a string ("1") or a number, as a
// 0-based index; anything else (absent, empty, "0", not a number, over
// maxSpeakerLabel) is 0. It never fails.
type speakerLabel int

// maxSpeakerLabel bounds the labels taken at face value.
const maxSpeakerLabel = 1 << 16

// UnmarshalJSON implements json.Unmarshaler.
func (s *speakerLabel) UnmarshalJSON(b []byte) error {
	*s = 0
	if n, ok := jsonInt(b); ok && n >= 1 && n <= maxSpeakerLabel {
		*s = speakerLabel(n - 1)
	}
	return nil
}

// codeNumber decodes an error code, a number or a numeric string; anything
// else is 0 (no code). It never fails.
type codeNumber int

// UnmarshalJSON implements json.Unmarshaler.
func (c *codeNumber) UnmarshalJSON(b []byte) error {
	*c = 0
	if n, ok := jsonInt(b); ok {
		*c = codeNumber(n)
	}
	return nil
}

// jsonInt reads a JSON number, or a string holding one, that is a whole
// number of at most nine digits.
func jsonInt(b []byte) (int, bool) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) >= 1e9 {
		return 0, false
	}
	return int(f), true
}
