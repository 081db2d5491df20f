//go:build pocketsphinx

package emulate_test

import (
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/internal/testfix"
	"earshot/stages"
	"earshot/stages/deepgram"
)

// sentence is Deepgram's punctuated form of one final's bare words: the
// first capitalised, a period after the last.
func sentence(words []string) []string {
	out := append([]string(nil), words...)
	if len(out) == 0 {
		return out
	}
	r, n := utf8.DecodeRuneInString(out[0])
	out[0] = string(unicode.ToUpper(r)) + out[0][n:]
	out[len(out)-1] += "."
	return out
}

// localFinals streams pcm at rate over a raw WebSocket with the query's
// extra parameters, and returns each Results with words as its bare words
// and its written form.
func localFinals(t *testing.T, h *harness, rate int, pcm []byte, extra string) (bareWords [][]string, ws []written) {
	t.Helper()
	ctx := testCtx(t)
	c, _, err := h.dial(ctx, "encoding=linear16&sample_rate="+strconv.Itoa(rate)+extra, testKey)
	td.Require(t).CmpNoError(err)
	defer c.CloseNow()
	sendAudio(t, ctx, c, pcm, rate/10*2)
	sendText(t, ctx, c, `{"type":"CloseStream"}`)
	msgs, err := readAll(t, ctx, c)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
	for _, m := range msgs {
		if m.Type != "Results" || len(m.words()) == 0 {
			continue
		}
		checkMsTimes(t, m.Raw)
		var words []string
		for _, w := range m.words() {
			words = append(words, w.Word)
		}
		bareWords = append(bareWords, words)
		ws = append(ws, writtenOf(t, m.Raw))
	}
	return bareWords, ws
}

// TestLocalRecognizerPunctuates runs every synthesized clip through
// pocketsphinx with its JSGF grammar (exact words): with punctuate=true
// (or smart_format=true) each final's words are sentence-cased with a
// final period, and so is its transcript; with both false the words are
// bare, as the Deepgram provider then reports them.
func TestLocalRecognizerPunctuates(t *testing.T) {
	for _, c := range speechClips(t) {
		t.Run(c.name, func(t *testing.T) {
			gram, _ := testfix.Grammar(t, c.ref)
			for _, extra := range []string{"&punctuate=true&smart_format=false", "&punctuate=false&smart_format=true"} {
				h, _ := localEmulator(t, 1, gram)
				finals, ws := localFinals(t, h, c.rate, c.pcm, extra)
				var all []string
				for i, words := range finals {
					want := sentence(words)
					td.Cmp(t, ws[i], forms(strings.Join(want, " "), want...), "%s: final %d", extra, i)
					all = append(all, words...)
				}
				td.Cmp(t, strings.Join(all, " "), c.ref, extra)
			}

			h, _ := localEmulator(t, 1, gram)
			finals, ws := localFinals(t, h, c.rate, c.pcm, "&punctuate=false&smart_format=false")
			td.Require(t).Cmp(finals, td.NotEmpty())
			for i, words := range finals {
				td.Cmp(t, ws[i], bare(strings.Join(words, " "), len(words)), "final %d", i)
			}
		})
	}
}

// TestLocalRecognizerPunctuatedThroughDeepgram: the Deepgram provider
// (punctuate and smart_format on by default) gets sentence-cased words,
// and with both off the bare words.
func TestLocalRecognizerPunctuatedThroughDeepgram(t *testing.T) {
	c := speechClips(t)[0]
	gram, _ := testfix.Grammar(t, c.ref)
	h, dg := localEmulator(t, 1, gram)
	for _, off := range []bool{false, true} {
		p := stages.Provider(dg)
		if off {
			var err error
			p, err = deepgram.New(deepgram.Config{URL: "ws" + strings.TrimPrefix(h.base, "http") + "/v1/listen",
				APIKey: testKey, Punctuate: deepgram.Bool(false), SmartFormat: deepgram.Bool(false)})
			td.Require(t).CmpNoError(err)
		}
		var got, want []string
		for _, r := range transcribe(t, p, c.rate, c.pcm) {
			var words []string
			for _, w := range r.Words {
				words = append(words, w.Word)
				got = append(got, w.Punctuated)
			}
			if !off {
				words = sentence(words)
			}
			want = append(want, words...)
		}
		td.Cmp(t, len(want), len(strings.Fields(c.ref)), "off %t", off)
		td.Cmp(t, got, want, "off %t", off)
		td.Cmp(t, h.summary(t).End, emulate.EndCloseStream, "the decoder is free for the next stream")
	}
}
