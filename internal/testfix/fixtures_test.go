package testfix_test

import (
	"path/filepath"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/testfix"
)

// TestGrammar picks the fixtures' grammar by the sentences a reference is
// made of, and counts them.
func TestGrammar(t *testing.T) {
	for _, c := range []struct {
		ref, gram string
		sentences int
	}{
		{"the quick brown fox jumps over the lazy dog", "sentences.gram", 1},
		{"did you get the deck i sent this morning please call me back when you get home we will meet at the office at nine", "sentences.gram", 3},
		{"that sounds good to me thank you all and have a great day", "demo.gram", 2},
		{"", "demo.gram", 0},
	} {
		path, n := testfix.Grammar(t, c.ref)
		td.Cmp(t, filepath.Base(path), c.gram, "%q", c.ref)
		td.Cmp(t, n, c.sentences, "%q", c.ref)
	}
	t.Run("skips when none fits", func(t *testing.T) {
		t.Cleanup(func() { td.CmpTrue(t, t.Skipped(), "no grammar makes up a sentence cut short") })
		testfix.Grammar(t, "the quick brown fox jumps")
		t.Error("not skipped")
	})
}
