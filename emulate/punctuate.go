package emulate

import (
	"earshot/internal/sentence"
	"earshot/stages"
)

// Speech is an optional interface of a Recognizer. A Recognizer whose
// Speech method reports true recognises spoken language (FromProvider's
// recognizers do), and the server writes its words as Deepgram does (see
// sentenceForms). The words of any other Recognizer, EnergyTest's burst
// names ("t1500") among them, are labels, sent as the recognizer spells
// them. A wrapper around a speech recognizer should forward Speech.
type Speech interface {
	// Speech reports whether the recognizer's words are spoken language.
	Speech() bool
}

// isSpeech reports whether rec implements Speech and reports true.
func isSpeech(rec Recognizer) bool {
	s, ok := rec.(Speech)
	return ok && s.Speech()
}

// wordForm is how a stream writes its words' punctuated_word and its
// transcripts.
type wordForm int

const (
	// formBare: punctuate and smart_format both off. Words carry no
	// punctuated_word, as with Deepgram (whose clients then take the bare
	// word), and the transcript joins the bare words (stages.Word.Word).
	formBare wordForm = iota
	// formGiven: punctuation on, a recognizer whose words are labels:
	// punctuated_word is the word's Punctuated (its Word if empty).
	formGiven
	// formSentence: punctuation on, a Speech recognizer: punctuated_word
	// is Deepgram's sentence form (sentenceForms).
	formSentence
)

// formFor is the form of a stream with parameters p served by rec:
// punctuation is on with punctuate=true or smart_format=true (Deepgram's
// smart_format punctuates too).
func formFor(p streamParams, rec Recognizer) wordForm {
	switch {
	case !p.punctuate:
		return formBare
	case isSpeech(rec):
		return formSentence
	default:
		return formGiven
	}
}

// punctuatedForms returns the punctuated_word of each word in form f, or
// nil for formBare (no punctuated_word).
func punctuatedForms(words []stages.Word, f wordForm) []string {
	if f == formBare {
		return nil
	}
	forms := make([]string, len(words))
	for i, w := range words {
		forms[i] = w.Punctuated
		if forms[i] == "" {
			forms[i] = w.Word
		}
	}
	if f == formSentence {
		sentenceForms(forms)
	}
	return forms
}

// sentenceForms rewrites forms, the words of one final Results (an
// utterance: the emulator ends a final at the end of the words the
// recognizer completed), in place into Deepgram's punctuated form. A form
// that the recognizer has already cased or punctuated is not changed
// twice:
//
//   - the first word, and each word after one that ends with . ? or !,
//     starts with a capital (sentence.Capitalise);
//   - the last word ends a sentence: unless it ends with . ? or !, trailing
//     , ; : are dropped and a period is added.
//
// Other words are left as they are (a name keeps its capital; nothing is
// lower-cased). Empty forms are skipped. Commas inside an utterance and
// smart_format's rewrites (numerals, currency, dates) are not emulated.
func sentenceForms(forms []string) {
	last := -1
	start := true
	for i, f := range forms {
		if f == "" {
			continue
		}
		if start {
			forms[i] = sentence.Capitalise(f)
		}
		start = sentence.Ends(f)
		last = i
	}
	if last >= 0 {
		forms[last] = sentence.Close(forms[last])
	}
}
