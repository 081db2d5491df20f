//go:build pocketsphinx

package local_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/testfix"
	"earshot/stages"
	"earshot/stages/local"
)

// punctuated is the punctuated form the engine gives word: its first
// letter upper-cased when it is the first word of its result, a period
// added when it is the last word of a final result (unless it ends with
// one already).
func punctuated(word string, first, last bool) string {
	if first {
		for i, r := range word {
			if unicode.IsLetter(r) {
				word = word[:i] + string(unicode.ToUpper(r)) + word[i+utf8.RuneLen(r):]
				break
			}
		}
	}
	if last && !strings.HasSuffix(word, ".") {
		word += "."
	}
	return word
}

// forms returns the bare and the punctuated words of rs' final results
// with words, one slice per result.
func forms(rs []stages.Result) (bare, punct [][]string) {
	for _, r := range rs {
		if !r.IsFinal || len(r.Words) == 0 {
			continue
		}
		var b, p []string
		for _, w := range r.Words {
			b, p = append(b, w.Word), append(p, w.Punctuated)
		}
		bare, punct = append(bare, b), append(punct, p)
	}
	return bare, punct
}

// TestPunctuation: each final result reads as a sentence: in the
// punctuated forms its first word is capitalised and its last ends with a
// period; the bare words stay lower-case. Interim results capitalise
// their first word but end without a period (the utterance goes on). The
// conversation's three sentences are three finals, three sentences.
func TestPunctuation(t *testing.T) {
	c := synthClip(t, "dialogue-8k.wav")
	gram, _ := testfix.Grammar(t, c.ref)
	p := testfix.LocalProvider(t, local.Config{PoolSize: 1, JSGFPath: gram, Partials: true})
	rs := decode(t, p, c.rate, c.pcm, frameBytes(c.rate, 100))
	bare, punct := forms(rs)
	td.Cmp(t, bare, [][]string{
		strings.Fields("did you get the deck i sent this morning"),
		strings.Fields("please call me back when you get home"),
		strings.Fields("we will meet at the office at nine"),
	})
	td.Cmp(t, punct, [][]string{
		strings.Fields("Did you get the deck i sent this morning."),
		strings.Fields("Please call me back when you get home."),
		strings.Fields("We will meet at the office at nine."),
	})
	var interim int
	for _, r := range rs {
		if r.IsFinal || len(r.Words) == 0 {
			continue
		}
		interim++
		td.Cmp(t, r.Words[0].Punctuated, punctuated(r.Words[0].Word, true, false), "interim: capitalised")
		td.Cmp(t, r.Words[len(r.Words)-1].Punctuated, td.Not(td.HasSuffix(".")), "interim: no period")
	}
	td.Cmp(t, interim, td.Gte(3), "interim results")
}

// TestPunctuationOneWord: a final result of one word gets both, "Dog.":
// the last word of the fox sentence, cut out with the silence after it
// and decoded with a grammar of that word alone.
func TestPunctuationOneWord(t *testing.T) {
	c := synthClip(t, "fox-16k.wav")
	gram, _ := testfix.Grammar(t, c.ref)
	p := testfix.LocalProvider(t, local.Config{PoolSize: 1, JSGFPath: gram})
	var words []stages.Word
	for _, r := range decode(t, p, c.rate, c.pcm, 0) {
		words = append(words, r.Words...)
	}
	td.Require(t).Cmp(words, td.Len(9))
	dog := words[8]
	td.Require(t).Cmp(dog.Word, "dog")

	one := filepath.Join(t.TempDir(), "one.gram")
	td.Require(t).CmpNoError(os.WriteFile(one, []byte("#JSGF V1.0;\ngrammar one;\npublic <word> = dog;\n"), 0o600))
	p = testfix.LocalProvider(t, local.Config{PoolSize: 1, JSGFPath: one})
	from := int((dog.StartSec-0.02)*float64(c.rate)) * 2
	pcm := append(make([]byte, frameBytes(c.rate, 500)), c.pcm[from:]...)
	bare, punct := forms(decode(t, p, c.rate, pcm, frameBytes(c.rate, 100)))
	td.Cmp(t, bare, [][]string{{"dog"}})
	td.Cmp(t, punct, [][]string{{"Dog."}})
}
