//go:build pocketsphinx

package local

import (
	"earshot/internal/sentence"
	"earshot/stages"
)

// punctuate sets the punctuated forms of an utterance's words, whose
// Punctuated is the bare word on entry, so that each final result reads as
// a sentence: the first word capitalised and, once the utterance has
// ended (final), the last word ending with a period. Word stays as it is
// (lower-case, as in the dictionary). A word that already ends a sentence
// (an abbreviation such as "a.m.") gets no second period.
func punctuate(words []stages.Word, final bool) {
	if len(words) == 0 {
		return
	}
	words[0].Punctuated = sentence.Capitalise(words[0].Punctuated)
	if last := &words[len(words)-1]; final {
		last.Punctuated = sentence.Close(last.Punctuated)
	}
}
