package stagestest

import (
	"slices"
	"strings"

	"earshot/stages"
)

// Say returns final-result words for text, spoken by speaker from start to
// end (seconds), spread evenly: each word's Word is its lower-case form
// without punctuation, Punctuated the field as written, confidence 0.9.
func Say(speaker int, start, end float64, text string) []stages.Word {
	fields := strings.Fields(text)
	step := (end - start) / float64(len(fields))
	ws := make([]stages.Word, len(fields))
	for i, f := range fields {
		ws[i] = stages.Word{
			Word:       strings.ToLower(strings.Trim(f, ".,?!")),
			Punctuated: f,
			StartSec:   start + float64(i)*step,
			EndSec:     start + float64(i+1)*step,
			Speaker:    speaker,
			Confidence: 0.9,
		}
	}
	return ws
}

// Final joins runs of words into one final result.
func Final(runs ...[]stages.Word) stages.Result {
	return stages.Result{Words: slices.Concat(runs...), IsFinal: true}
}
