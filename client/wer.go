package client

import (
	"strings"
	"unicode"
)

// Words splits text into normalized words, the way WER compares them:
// split at white space, lowercased, every character other than a letter,
// a digit or an apostrophe removed, apostrophes at a word's ends dropped
// ("don't" stays one word, "'cause" becomes "cause", "9:30" becomes
// "930"), and a pronunciation variant such as "the(2)" reduced to the
// bare word. These are the rules of earshot/stages/local's Words, so that
// both give the same WER.
func Words(text string) []string {
	var out []string
	for _, f := range strings.Fields(strings.ToLower(text)) {
		if i := strings.IndexByte(f, '('); i > 0 && strings.HasSuffix(f, ")") {
			f = f[:i]
		}
		f = strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' {
				return r
			}
			return -1
		}, f)
		if f = strings.Trim(f, "'"); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// WERResult is a word error rate with its parts.
type WERResult struct {
	// Rate is Edits / RefWords; with an empty reference it is 0 when the
	// hypothesis is empty too, else 1.
	Rate float64 `json:"rate"`
	// Edits is the word-level edit distance: substitutions + deletions +
	// insertions.
	Edits int `json:"edits"`
	// RefWords and HypWords count the normalized words.
	RefWords int `json:"ref_words"`
	HypWords int `json:"hyp_words"`
}

// WER is the word error rate of hyp against ref: the Levenshtein distance
// between their Words (each substitution, deletion and insertion costs 1)
// divided by the number of reference words.
func WER(ref, hyp string) WERResult {
	r, h := Words(ref), Words(hyp)
	e := editDistance(r, h)
	res := WERResult{Edits: e, RefWords: len(r), HypWords: len(h)}
	switch {
	case len(r) > 0:
		res.Rate = float64(e) / float64(len(r))
	case len(h) > 0:
		res.Rate = 1
	}
	return res
}

// Combine adds results up: the rate of the sum is total edits over total
// reference words.
func Combine(rs ...WERResult) WERResult {
	var sum WERResult
	for _, r := range rs {
		sum.Edits += r.Edits
		sum.RefWords += r.RefWords
		sum.HypWords += r.HypWords
	}
	switch {
	case sum.RefWords > 0:
		sum.Rate = float64(sum.Edits) / float64(sum.RefWords)
	case sum.HypWords > 0:
		sum.Rate = 1
	}
	return sum
}

// editDistance is the Levenshtein distance between two word lists, in
// O(len(a)·len(b)) time and O(len(b)) space.
func editDistance(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
