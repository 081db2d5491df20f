package local

import (
	"strings"
	"unicode"
)

// WER returns the word error rate of hyp against the reference ref: the
// minimum number of word substitutions, insertions and deletions that turn
// ref into hyp, divided by the number of words in ref. Words are compared
// lowercased, with punctuation removed (apostrophes inside words are kept,
// so "don't" stays one word) and pronunciation variants such as "the(2)"
// reduced to the bare word. An empty ref gives 0 for an empty hyp and 1
// otherwise. The result may exceed 1 when hyp has many extra words.
func WER(ref, hyp string) float64 {
	r, h := Words(ref), Words(hyp)
	if len(r) == 0 {
		if len(h) == 0 {
			return 0
		}
		return 1
	}
	return float64(EditDistance(r, h)) / float64(len(r))
}

// Words splits s into normalised words as WER compares them.
func Words(s string) []string {
	fields := strings.Fields(strings.ToLower(s))
	out := fields[:0]
	for _, f := range fields {
		if i := strings.IndexByte(f, '('); i > 0 && strings.HasSuffix(f, ")") {
			f = f[:i]
		}
		f = strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' {
				return r
			}
			return -1
		}, f)
		f = strings.Trim(f, "'")
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// EditDistance is the Levenshtein distance between two word sequences.
func EditDistance(a, b []string) int {
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		diag := row[0]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			sub := diag
			if a[i-1] != b[j-1] {
				sub++
			}
			diag = row[j]
			row[j] = min(row[j]+1, row[j-1]+1, sub)
		}
	}
	return row[len(b)]
}
