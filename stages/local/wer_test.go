package local_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages/local"
)

func TestWER(t *testing.T) {
	for _, tc := range []struct {
		name, ref, hyp string
		want           float64
	}{
		{"identical", "go forward ten meters", "go forward ten meters", 0},
		{"case and punctuation", "Go forward, ten meters!", "go FORWARD ten meters", 0},
		{"variants", "the quick fox", "the(2) quick fox", 0},
		{"apostrophe kept", "don't stop", "dont stop", 0.5},
		{"substitution", "ten of clubs", "ten of spades", 1.0 / 3},
		{"deletion", "ten of clubs", "ten clubs", 1.0 / 3},
		{"insertion", "ten of clubs", "ten of the clubs", 1.0 / 3},
		{"everything wrong", "a b", "c d e", 1.5},
		{"empty hyp", "a b c d", "", 1},
		{"empty both", " ", "", 0},
		{"empty ref", "", "noise", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			td.Cmp(t, local.WER(tc.ref, tc.hyp), td.N(tc.want, 1e-9))
		})
	}
}

func TestWords(t *testing.T) {
	td.Cmp(t, local.Words(" Hello,  WORLD... it's (2) i'm(2) "), []string{"hello", "world", "it's", "2", "i'm"})
	td.Cmp(t, local.EditDistance([]string{"a", "b", "c"}, []string{"b", "c", "d"}), 2)
}
