//go:build pocketsphinx

package local

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"earshot/stages"
)

// punctuate sets the punctuated forms of an utterance's words, whose
// Punctuated is the bare word on entry, so that each final result reads as
// a sentence: the first word capitalised and, once the utterance has
// ended (final), the last word ending with a period. Word stays as it is
// (lower-case, as in the dictionary). A word that already ends with a
// period (an abbreviation such as "a.m.") gets no second one.
func punctuate(words []stages.Word, final bool) {
	if len(words) == 0 {
		return
	}
	words[0].Punctuated = capitalise(words[0].Punctuated)
	if last := &words[len(words)-1]; final && !strings.HasSuffix(last.Punctuated, ".") {
		last.Punctuated += "."
	}
}

// capitalise upper-cases the first letter of w ("'cause" gives "'Cause").
func capitalise(w string) string {
	for i, r := range w {
		if unicode.IsLetter(r) {
			return w[:i] + string(unicode.ToUpper(r)) + w[i+utf8.RuneLen(r):]
		}
	}
	return w
}
