// Package clip shortens client-supplied text for close reasons and logs.
package clip

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printable keeps at most limit bytes of s's whole printable runes
// (invalid UTF-8 and non-printable runes dropped), "…" marking a cut.
func Printable(s string, limit int) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "") {
		if !unicode.IsPrint(r) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > limit {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
