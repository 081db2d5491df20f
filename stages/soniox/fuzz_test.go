package soniox_test

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode"

	"earshot/stages"
	"earshot/stages/soniox"
)

// pieces are the token texts a fuzz script draws from: sub-word pieces,
// punctuation with and without a leading space, unspaced scripts,
// combining marks, markers, empty and blank tokens.
var pieces = []string{
	" hel", "lo", " wor", "ld", ",", ".", " \"", "\"", "\u2019s", " 你", "好", "。",
	"<end>", "<fin>", " ", "", " —", "Öl", " 42", "\u093e", " 'n'", "-", " I",
}

// scriptFrames turns fuzz bytes into responses: each byte is one token
// (its piece, whether it is final, its speaker, its length, whether the
// response ends after it). It also returns the letters and digits of the
// final, non-marker tokens, which the words must hold in order.
func scriptFrames(script []byte) (frames []string, letters string) {
	var want strings.Builder
	var toks []tok
	clock := 0
	flush := func() {
		frames = append(frames, resp(clock, toks...))
		toks = toks[:0]
	}
	for _, b := range script {
		text := pieces[int(b)%len(pieces)]
		flags := int(b) / len(pieces)
		t := fin(text, clock, clock+int(b%7)*10)
		clock = t.EndMs + int(b%3)*5
		if flags%4 == 3 {
			t.IsFinal = false
		}
		if flags&4 != 0 {
			t.Speaker = "2"
		}
		if t.IsFinal && text != "<end>" && text != "<fin>" {
			want.WriteString(lettersOf(text))
		}
		toks = append(toks, t)
		if flags&8 != 0 {
			flush()
		}
	}
	flush()
	return frames, want.String()
}

// lettersOf is text's letters and digits, lower-cased.
func lettersOf(text string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, text)
}

// FuzzParse feeds a Parser arbitrary frames (raw, split at newlines) and
// then scripted token sequences, and checks that it never panics, that
// its errors are *stages.UpstreamErrors, that Results cover the stream
// without gaps, that words are never empty and their times ordered, and
// that scripted tokens lose no letter. Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(resp(900, fin("Hel", 10, 120), fin("lo", 120, 300), fin(",", 300, 310), endTok)), []byte{0, 1, 2, 3, 12 + 8*23})
	f.Fuzz(func(t *testing.T, raw, script []byte) {
		var p soniox.Parser
		var all []stages.Result
		for _, frame := range bytes.Split(raw, []byte("\n")) {
			res, err := p.Parse(nil, frame)
			checkParseError(t, err, res)
			all = append(all, res...)
		}
		frames, want := scriptFrames(script)
		var q soniox.Parser // the script alone, for the letters
		var scripted []stages.Result
		for _, frame := range frames {
			res, err := p.Parse(nil, []byte(frame))
			checkParseError(t, err, res)
			all = append(all, res...)
			res, err = q.Parse(nil, []byte(frame))
			if err != nil {
				t.Fatalf("scripted frame %s: %v", frame, err)
			}
			scripted = append(scripted, res...)
		}
		for _, pp := range []*soniox.Parser{&p, &q} {
			if res, ok := pp.Flush(); ok {
				if pp == &p {
					all = append(all, res)
				} else {
					scripted = append(scripted, res)
				}
			}
		}
		checkResults(t, all)
		checkResults(t, scripted)
		var got strings.Builder
		for _, r := range scripted {
			for _, w := range r.Words {
				got.WriteString(lettersOf(w.Word))
			}
		}
		if got.String() != want {
			t.Fatalf("letters %q, want %q", got.String(), want)
		}
	})
}

func checkParseError(t *testing.T, err error, res []stages.Result) {
	t.Helper()
	if err == nil {
		return
	}
	var ue *stages.UpstreamError
	if !errors.As(err, &ue) || len(res) != 0 {
		t.Fatalf("error %v (%d results) is not a bare *UpstreamError", err, len(res))
	}
	if !errors.Is(err, soniox.ErrMalformed) && !errors.Is(err, soniox.ErrResponse) {
		t.Fatalf("error %v is neither malformed nor an error response", err)
	}
	if len(ue.Reason) > 160 || ue.Reason == "" {
		t.Fatalf("reason %q", ue.Reason)
	}
}

func checkResults(t *testing.T, results []stages.Result) {
	t.Helper()
	var end float64
	var last stages.Word
	for i, r := range results {
		if !r.IsFinal || r.DurationSec < 0 || !near(r.StartSec, end) {
			t.Fatalf("result %d %+v: not final, negative or not starting at %v", i, r, end)
		}
		if len(r.Words) == 0 && !r.SpeechFinal && !r.FromFinalize {
			t.Fatalf("result %d has neither words nor a marker", i)
		}
		end = r.StartSec + r.DurationSec
		for _, w := range r.Words {
			switch {
			case w.Word == "" || w.Punctuated == "" || w.Punctuated != strings.TrimSpace(w.Punctuated):
				t.Fatalf("empty or untrimmed word %+v", w)
			case strings.IndexFunc(w.Word, notBare) >= 0:
				t.Fatalf("punctuation in bare word %q", w.Word)
			case w.Confidence < 0 || w.Confidence > 1:
				t.Fatalf("confidence of %+v", w)
			case w.StartSec > w.EndSec || w.StartSec < last.StartSec || w.EndSec < last.EndSec:
				t.Fatalf("word %+v out of order after %+v", w, last)
			}
			last = w
		}
	}
}

func notBare(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) && r != '\''
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*max(1, math.Abs(a), math.Abs(b))
}
