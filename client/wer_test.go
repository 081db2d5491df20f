package client_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/client"
)

func TestWords(t *testing.T) {
	td.Cmp(t, client.Words("Hey, did you get the deck I sent?"),
		[]string{"hey", "did", "you", "get", "the", "deck", "i", "sent"})
	td.Cmp(t, client.Words("  Don't -- 'cause  it's 9:30...\tOK!"),
		[]string{"don't", "cause", "it's", "930", "ok"})
	td.Cmp(t, client.Words("Ça va? Über-cool. the(2) read(10)"), []string{"ça", "va", "übercool", "the", "read"})
	td.Cmp(t, client.Words(" .,!? "), td.Nil())
}

func TestWER(t *testing.T) {
	ref := "the quick brown fox jumps over the lazy dog"
	for _, tc := range []struct {
		name, hyp string
		want      client.WERResult
	}{
		{"identical up to case and punctuation", "The quick, brown fox jumps over the lazy dog.",
			client.WERResult{Rate: 0, Edits: 0, RefWords: 9, HypWords: 9}},
		{"one substitution", "the quick brown box jumps over the lazy dog",
			client.WERResult{Rate: 1.0 / 9, Edits: 1, RefWords: 9, HypWords: 9}},
		{"one deletion", "the quick brown jumps over the lazy dog",
			client.WERResult{Rate: 1.0 / 9, Edits: 1, RefWords: 9, HypWords: 8}},
		{"two insertions", "the very quick brown fox jumps over the lazy dog today",
			client.WERResult{Rate: 2.0 / 9, Edits: 2, RefWords: 9, HypWords: 11}},
		{"mixed", "a quick brown fox jumped over lazy dogs",
			client.WERResult{Rate: 4.0 / 9, Edits: 4, RefWords: 9, HypWords: 8}},
		{"nothing heard", "",
			client.WERResult{Rate: 1, Edits: 9, RefWords: 9, HypWords: 0}},
		{"more errors than words", "one two three four five six seven eight nine ten eleven",
			client.WERResult{Rate: 11.0 / 9, Edits: 11, RefWords: 9, HypWords: 11}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			td.Cmp(t, client.WER(ref, tc.hyp), tc.want)
		})
	}
	td.Cmp(t, client.WER("", ""), client.WERResult{})
	td.Cmp(t, client.WER("", "uh"), client.WERResult{Rate: 1, Edits: 1, HypWords: 1})
	// Symmetric distance, asymmetric rate.
	td.Cmp(t, client.WER("a b", "a b c d").Edits, client.WER("a b c d", "a b").Edits)
}

func TestCombine(t *testing.T) {
	td.Cmp(t, client.Combine(
		client.WER("a b c d", "a b c d"),
		client.WER("a b c d e f", "a x c"),
	), client.WERResult{Rate: 4.0 / 10, Edits: 4, RefWords: 10, HypWords: 7})
	td.Cmp(t, client.Combine(), client.WERResult{})
	td.Cmp(t, client.Combine(client.WER("", "x")), client.WERResult{Rate: 1, Edits: 1, HypWords: 1})
}
