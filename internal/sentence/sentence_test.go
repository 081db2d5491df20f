package sentence_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/sentence"
)

func TestCapitalise(t *testing.T) {
	for in, want := range map[string]string{
		"dog": "Dog", "'cause": "'Cause", "3d": "3d", "Deck": "Deck", "": "", "...": "...", "élan": "Élan",
	} {
		td.Cmp(t, sentence.Capitalise(in), want, "%q", in)
	}
}

func TestClose(t *testing.T) {
	for in, want := range map[string]string{
		"dog": "dog.", "a.m.": "a.m.", "why?": "why?", "now!": "now!", "well,": "well.", "so;:": "so.",
	} {
		td.Cmp(t, sentence.Close(in), want, "%q", in)
	}
	td.CmpTrue(t, sentence.Ends("done."))
	td.CmpFalse(t, sentence.Ends("done,"))
}
