package emulate

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"earshot/stages"
)

// The marker tokens of Soniox's responses. They carry only text and
// is_final (always true).
const (
	// SonioxEndToken follows the final tokens of an utterance when the
	// start message enabled endpoint detection.
	SonioxEndToken = "<end>"
	// SonioxFinToken follows the tokens that a finalize message made
	// final.
	SonioxFinToken = "<fin>"
)

// sonioxSplitRunes: a word (without its trailing punctuation) longer than
// this many runes is sent as two tokens.
const sonioxSplitRunes = 4

// sonioxTrailingPunct are the marks that go in a token of their own at the
// end of a word ("world." is " wor", "ld", ".").
const sonioxTrailingPunct = ".,;:?!…"

// sonioxToken is one token of a response. Word pieces carry every field
// (speaker only with diarization); markers only text and is_final.
type sonioxToken struct {
	Text       string   `json:"text"`
	StartMs    *int64   `json:"start_ms,omitempty"`
	EndMs      *int64   `json:"end_ms,omitempty"`
	Confidence *float64 `json:"confidence,omitempty"`
	IsFinal    bool     `json:"is_final"`
	Speaker    string   `json:"speaker,omitempty"`
	Language   string   `json:"language,omitempty"`
}

func markerToken(text string) sonioxToken { return sonioxToken{Text: text, IsFinal: true} }

// sonioxResponse is a Soniox result response. The emulator sends final
// tokens only. Tokens is never null.
type sonioxResponse struct {
	Tokens           []sonioxToken `json:"tokens"`
	FinalAudioProcMs int64         `json:"final_audio_proc_ms"`
	TotalAudioProcMs int64         `json:"total_audio_proc_ms"`
	Finished         bool          `json:"finished,omitempty"`
}

// sonioxError is Soniox's error response, sent just before the close (and
// as the body of a refused upgrade).
type sonioxError struct {
	ErrorCode    int    `json:"error_code"`
	ErrorMessage string `json:"error_message"`
	RequestID    string `json:"request_id,omitempty"`
}

func newSonioxError(code int, msg, requestID string) sonioxError {
	return sonioxError{ErrorCode: code, ErrorMessage: msg, RequestID: requestID}
}

// piece is one token of a word before it is timed: its text and its share
// of the word's span (its rune count; zero for punctuation).
type piece struct {
	text   string
	weight int
}

// splitWord cuts a word's written form into its tokens, the way Soniox's
// sub-word tokens look: trailing punctuation (sonioxTrailingPunct) becomes
// a token of its own, and the rest, if longer than sonioxSplitRunes runes,
// two tokens (the first one the longer by at most a rune: "hello" is
// "hel", "lo"). A form of punctuation only stays one token.
func splitWord(form string) []piece {
	core := strings.TrimRight(form, sonioxTrailingPunct)
	if core == "" {
		return []piece{{form, utf8.RuneCountInString(form)}}
	}
	var ps []piece
	if r := []rune(core); len(r) > sonioxSplitRunes {
		h := (len(r) + 1) / 2
		ps = append(ps, piece{string(r[:h]), h}, piece{string(r[h:]), len(r) - h})
	} else {
		ps = append(ps, piece{core, len(r)})
	}
	if punct := form[len(core):]; punct != "" {
		ps = append(ps, piece{punct, 0})
	}
	return ps
}

// tokenBatch is the tokens of some final words, and where to cut them
// into two responses.
type tokenBatch struct {
	tokens []sonioxToken
	// cut is the index of the last token of the first response, -1 for
	// one response; cutMs is that response's final_audio_proc_ms (its
	// last token's end).
	cut   int
	cutMs int64
}

// wordTokens turns words, the final words of the audio span sp, into
// tokens. Each word's times are rounded to milliseconds and clamped into
// sp as the Deepgram front end does (msSpan.wordMs), and its span is
// shared between its pieces in proportion to their runes (punctuation
// takes none: it sits at the word's end). The first token of a word
// starts with a space, except for the stream's very first word. The
// batch is cut after the first piece of its last word of several tokens,
// so that clients must join a word across responses. Words whose written
// form is empty are skipped.
func (st *sonioxStream) wordTokens(words []stages.Word, sp msSpan) tokenBatch {
	forms := punctuatedForms(words, st.form)
	b := tokenBatch{cut: -1}
	for i, w := range words {
		if forms[i] == "" {
			continue
		}
		start, end := sp.wordMs(w)
		ps := splitWord(forms[i])
		total := 0
		for _, p := range ps {
			total += p.weight
		}
		speaker := ""
		if st.start.diarize {
			speaker = strconv.Itoa(w.Speaker + 1)
		}
		if len(ps) > 1 {
			b.cut = len(b.tokens)
		}
		done := 0
		for j, p := range ps {
			text := p.text
			if j == 0 && st.words > 0 {
				text = " " + text
			}
			from := start + (end-start)*int64(done)/int64(total)
			done += p.weight
			to := start + (end-start)*int64(done)/int64(total)
			conf := w.Confidence
			b.tokens = append(b.tokens, sonioxToken{
				Text: text, StartMs: &from, EndMs: &to, Confidence: &conf,
				IsFinal: true, Speaker: speaker, Language: st.start.language,
			})
			if j == 0 && len(ps) > 1 {
				b.cutMs = to
			}
		}
		st.words++
	}
	return b
}
