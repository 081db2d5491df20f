package deepgram

import (
	"encoding/json"
	"errors"
	"fmt"

	"earshot/stages"
)

// Parser decodes the JSON text frames a Deepgram live stream sends.
//
// The zero value is ready to use. A Parser reuses its decode buffers from
// one Parse to the next, so it must not be used by two goroutines at once;
// the Results it returns never alias those buffers.
type Parser struct {
	m wireMessage
}

// Bounds on what a Parser keeps between frames; larger buffers are
// dropped after use.
const (
	maxKeptAlternatives = 4
	maxKeptWords        = 1024
)

// Parse decodes one text frame.
//
//   - "Results": ok is true and res holds channel.alternatives[0]'s words
//     (punctuated_word falls back to word, an absent speaker is 0,
//     confidence is clamped to [0, 1]) and the frame's timing and flags.
//   - "Error": a retryable *stages.UpstreamError whose Code is the
//     message's variant and Reason its description.
//   - any other type (Metadata, UtteranceEnd, SpeechStarted, unknown):
//     ok is false and err is nil; skip it.
//   - invalid JSON, or a Results of the wrong shape: a retryable
//     *stages.UpstreamError wrapping ErrMalformed.
//
// Upstream-provided text in errors is bounded and stripped of control
// characters; Parse does not know the API key, so Stream.Recv scrubs it.
func (p *Parser) Parse(frame []byte) (res stages.Result, ok bool, err error) {
	p.reset()
	m := &p.m
	if err := json.Unmarshal(frame, m); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) || m.Type == typeResults || m.Type == typeError {
			return stages.Result{}, false, &stages.UpstreamError{
				Reason: "malformed message",
				Err:    fmt.Errorf("%w: %w", ErrMalformed, err),
			}
		}
		// A known-good frame of another type whose fields clash with
		// Results' (UtteranceEnd's "channel" is an array): skip it.
		return stages.Result{}, false, nil
	}
	switch m.Type {
	case typeResults:
		return m.result(), true, nil
	case typeError:
		code := m.Variant
		if code == "" {
			code = m.ErrCode
		}
		reason := firstNonEmpty(m.Description, m.Message, m.ErrMsg, "upstream error")
		return stages.Result{}, false, &stages.UpstreamError{
			Code:   clientSafe(code, ""),
			Reason: clientSafe(reason, ""),
		}
	default:
		return stages.Result{}, false, nil
	}
}

// result converts a decoded Results message.
func (m *wireMessage) result() stages.Result {
	res := stages.Result{
		StartSec:     m.Start,
		DurationSec:  m.Duration,
		IsFinal:      m.IsFinal,
		SpeechFinal:  m.SpeechFinal,
		FromFinalize: m.FromFinalize,
	}
	if len(m.Channel.Alternatives) == 0 {
		return res
	}
	ws := m.Channel.Alternatives[0].Words
	if len(ws) == 0 {
		return res
	}
	res.Words = make([]stages.Word, len(ws))
	for i := range ws {
		w := &ws[i]
		punctuated := w.PunctuatedWord
		if punctuated == "" {
			punctuated = w.Word
		}
		res.Words[i] = stages.Word{
			Word:       w.Word,
			Punctuated: punctuated,
			StartSec:   w.Start,
			EndSec:     w.End,
			Speaker:    w.Speaker,
			Confidence: min(max(w.Confidence, 0), 1),
		}
	}
	return res
}

// reset zeroes the message for the next frame, keeping bounded buffers.
// encoding/json decodes into existing slice elements without zeroing
// them, so stale words are cleared here.
func (p *Parser) reset() {
	alts := p.m.Channel.Alternatives
	if cap(alts) > maxKeptAlternatives {
		alts = nil
	}
	alts = alts[:cap(alts)]
	for i := range alts {
		ws := alts[i].Words
		if cap(ws) > maxKeptWords {
			ws = nil
		}
		ws = ws[:cap(ws)]
		clear(ws)
		alts[i] = wireAlternative{Words: ws[:0]}
	}
	p.m = wireMessage{Channel: wireChannel{Alternatives: alts[:0]}}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// msgType is a server message's "type", decoded without allocating.
type msgType uint8

const (
	typeOther msgType = iota
	typeResults
	typeError
)

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *msgType) UnmarshalText(b []byte) error {
	switch string(b) {
	case "Results":
		*t = typeResults
	case "Error":
		*t = typeError
	default:
		*t = typeOther
	}
	return nil
}

// wireMessage is the union of the fields Parse reads from any message.
type wireMessage struct {
	Type         msgType     `json:"type"`
	Start        float64     `json:"start"`
	Duration     float64     `json:"duration"`
	IsFinal      bool        `json:"is_final"`
	SpeechFinal  bool        `json:"speech_final"`
	FromFinalize bool        `json:"from_finalize"`
	Channel      wireChannel `json:"channel"`

	// In-band Error fields (and the err_* spelling of refused upgrades).
	Description string `json:"description"`
	Message     string `json:"message"`
	Variant     string `json:"variant"`
	ErrCode     string `json:"err_code"`
	ErrMsg      string `json:"err_msg"`
}

type wireChannel struct {
	Alternatives []wireAlternative `json:"alternatives"`
}

type wireAlternative struct {
	Words []wireWord `json:"words"`
}

type wireWord struct {
	Word           string  `json:"word"`
	PunctuatedWord string  `json:"punctuated_word"`
	Start          float64 `json:"start"`
	End            float64 `json:"end"`
	Confidence     float64 `json:"confidence"`
	Speaker        int     `json:"speaker"`
}
