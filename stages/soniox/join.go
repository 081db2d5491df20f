package soniox

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"earshot/stages"
)

// Joining sub-word tokens into words, by the rules Parser documents.

// maxAttachedBytes bounds a word's text that attach may grow.
const maxAttachedBytes = 256

// heldWord is the word being joined, possibly still incomplete.
type heldWord struct {
	text    []byte // the tokens' texts, as written
	held    bool   // tokens joined since the last completion
	wordy   bool   // the text has a letter or digit
	last    rune   // the text's last letter or digit
	startMs float64
	endMs   float64
	conf    float64
	speaker int
}

// addToken joins one final, non-marker token. tail holds the Results of
// the current Parse (for punctuation that closes a completed word).
func (p *Parser) addToken(tail []stages.Result, t *wireToken) {
	text := t.Text
	if text == "" {
		return
	}
	first, last, wordy := letters(text)
	spaceLed := startsWithSpace(text)
	start, end := p.clampTimes(t.StartMs, t.EndMs)
	conf := min(max(t.Confidence, 0), 1)
	speaker := int(t.Speaker)
	w := &p.cur
	switch {
	case !w.held && !wordy && !spaceLed:
		p.attach(tail, text)
		return
	case !w.held:
	case w.wordy && (spaceLed || wordy && (speaker != w.speaker || unspaced(first) || unspaced(w.last))):
		p.complete(tail)
	default:
		w.text = append(w.text, text...)
		w.endMs = max(w.endMs, end)
		w.conf = min(w.conf, conf)
		if wordy {
			if !w.wordy {
				w.speaker = speaker
			}
			w.wordy, w.last = true, last
		}
		return
	}
	*w = heldWord{
		text: append(w.text[:0], text...), held: true, wordy: wordy, last: last,
		startMs: start, endMs: end, conf: conf, speaker: speaker,
	}
}

// complete ends the held word: a word with a letter or digit joins the
// batch; bare punctuation closes the last completed word.
func (p *Parser) complete(tail []stages.Result) {
	w := &p.cur
	if !w.held {
		return
	}
	if w.wordy {
		punct := strings.TrimSpace(string(w.text))
		p.batch = append(p.batch, stages.Word{
			Word:       bareWord(punct),
			Punctuated: punct,
			StartSec:   w.startMs / 1000,
			EndSec:     w.endMs / 1000,
			Speaker:    w.speaker,
			Confidence: w.conf,
		})
		p.batchEndMs = max(p.batchEndMs, w.endMs)
	} else {
		p.attach(tail, string(w.text))
	}
	*w = heldWord{text: w.text[:0]}
}

// attach appends punctuation to the last word completed in this Parse
// (in the batch, else in the last Result of tail); without one it is
// dropped (it closes a word already returned), as is what would grow the
// word past maxAttachedBytes.
func (p *Parser) attach(tail []stages.Result, text string) {
	var w *stages.Word
	switch {
	case len(p.batch) > 0:
		w = &p.batch[len(p.batch)-1]
	case len(tail) > 0 && len(tail[len(tail)-1].Words) > 0:
		ws := tail[len(tail)-1].Words
		w = &ws[len(ws)-1]
	default:
		return
	}
	if len(w.Punctuated)+len(text) > maxAttachedBytes {
		return // bounds the work a flood of stray punctuation costs
	}
	w.Punctuated = strings.TrimSpace(w.Punctuated + text)
	w.Word = bareWord(w.Punctuated)
}

// clampTimes keeps token times in order: starts and ends never go back,
// and no token ends before it starts. Soniox's own times already are;
// this only tames nonsense.
func (p *Parser) clampTimes(startMs, endMs float64) (float64, float64) {
	start := max(startMs, p.lastStartMs, 0)
	end := max(endMs, start, p.lastEndMs)
	p.lastStartMs, p.lastEndMs = start, end
	return start, end
}

// letters scans text for letters and digits: the first and last one, and
// whether there is any.
func letters(text string) (first, last rune, ok bool) {
	for _, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if !ok {
				first, ok = r, true
			}
			last = r
		}
	}
	return first, last, ok
}

// startsWithSpace reports whether text begins with white space.
func startsWithSpace(text string) bool {
	r, _ := utf8.DecodeRuneInString(text)
	return unicode.IsSpace(r)
}

// unspaced reports whether r belongs to a script written without spaces
// between words.
func unspaced(r rune) bool {
	return r >= 0x2e80 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

// bareWord is a word without punctuation or casing: its letters (with
// their combining marks) and digits lower-cased, and its inner
// apostrophes as "'".
func bareWord(punct string) string {
	var b strings.Builder
	b.Grow(len(punct))
	for _, r := range punct {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '\u2019' || r == '\u02bc':
			b.WriteByte('\'')
		}
	}
	return strings.Trim(b.String(), "'")
}
