// Package sentence writes recognised words as sentences, for recognizers
// that give none of their own (the embedded engine, and the emulator's
// answer to punctuate=true): sentence casing and a final period. It is
// the one place that knows what starts and ends a sentence in a word's
// written form.
package sentence

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Capitalise upper-cases the first letter of w when only punctuation
// precedes it ("'cause" gives "'Cause"; "3d" and "Deck" stay as they are).
func Capitalise(w string) string {
	for i, r := range w {
		switch {
		case unicode.IsLower(r):
			return w[:i] + string(unicode.ToUpper(r)) + w[i+utf8.RuneLen(r):]
		case !unicode.IsPunct(r):
			return w
		}
	}
	return w
}

// Ends reports whether w ends a sentence: it ends with '.', '?' or '!'.
func Ends(w string) bool {
	return strings.HasSuffix(w, ".") || strings.HasSuffix(w, "?") || strings.HasSuffix(w, "!")
}

// Close makes w the last word of a sentence: unchanged when it Ends one,
// else with trailing ',', ';' and ':' dropped and a period added.
func Close(w string) string {
	if Ends(w) {
		return w
	}
	return strings.TrimRight(w, ",;:") + "."
}
