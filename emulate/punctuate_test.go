package emulate_test

import (
	"encoding/json"
	"testing"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/stages"
)

// written is how a Results message writes its words: the transcript, and
// each word's punctuated_word (nil when absent).
type written struct {
	Transcript string
	Punctuated []*string
}

// writtenOf decodes the written form of a Results message.
func writtenOf(t *testing.T, raw []byte) written {
	t.Helper()
	var m struct {
		Channel struct {
			Alternatives []struct {
				Transcript string `json:"transcript"`
				Words      []struct {
					Punctuated *string `json:"punctuated_word"`
				} `json:"words"`
			} `json:"alternatives"`
		} `json:"channel"`
	}
	td.Require(t).CmpNoError(json.Unmarshal(raw, &m))
	td.Require(t).Cmp(m.Channel.Alternatives, td.Len(1))
	w := written{Transcript: m.Channel.Alternatives[0].Transcript, Punctuated: []*string{}}
	for _, word := range m.Channel.Alternatives[0].Words {
		w.Punctuated = append(w.Punctuated, word.Punctuated)
	}
	return w
}

// forms is the written form of a Results with punctuated_word on every
// word.
func forms(transcript string, ws ...string) written {
	w := written{Transcript: transcript, Punctuated: []*string{}}
	for _, s := range ws {
		w.Punctuated = append(w.Punctuated, &s)
	}
	return w
}

// bare is the written form of a Results without punctuated_word.
func bare(transcript string, n int) written {
	return written{Transcript: transcript, Punctuated: make([]*string, n)}
}

// pw is a word with a punctuated form, at its index in 100 ms frames.
func pw(frame, i int, word, punctuated string) stages.Word {
	at := float64(frame)/10 + float64(i)/100
	return stages.Word{Word: word, Punctuated: punctuated, StartSec: at, EndSec: at + 0.01, Confidence: 1}
}

// utterances are one final each (one per 100 ms frame), from a recognizer
// that does not punctuate, one that does, and one that leaves marks to
// tidy: a question inside, a trailing comma, empty Punctuated forms, a
// leading apostrophe and a leading digit.
var utterances = [][]stages.Word{
	{pw(0, 0, "hello", "hello"), pw(0, 1, "world", "world")},
	{pw(1, 0, "good", "Good"), pw(1, 1, "morning", "morning.")},
	{pw(2, 0, "ready", "ready?"), pw(2, 1, "yes", "yes"), pw(2, 2, "go", "go!")},
	{pw(3, 0, "well", "well,")},
	{pw(4, 0, "i", ""), pw(4, 1, "see", "")},
	{pw(5, 0, "'cause", "'cause"), pw(5, 1, "3d", "3d")},
}

// writtenForms streams utterances through rec with query q and returns
// the written form of each utterance's Results.
func writtenForms(t *testing.T, rec emulate.Recognizer, q string) []written {
	t.Helper()
	h := newHarness(t, emulate.Config{Recognizer: func(int) (emulate.Recognizer, error) { return rec, nil }})
	ctx := testCtx(t)
	c, _, err := h.dial(ctx, "encoding=linear16&sample_rate=16000"+q, "")
	td.Require(t).CmpNoError(err)
	defer c.CloseNow()
	sendAudio(t, ctx, c, (&signal{}).silence(100*len(utterances)).pcm, 3200)
	sendText(t, ctx, c, `{"type":"CloseStream"}`)
	msgs, err := readAll(t, ctx, c)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
	td.Require(t).Cmp(msgs, td.Len(len(utterances)+2)) // + CloseStream's empty final, Metadata
	var ws []written
	for _, m := range msgs[:len(utterances)] {
		ws = append(ws, writtenOf(t, m.Raw))
	}
	return ws
}

// TestPunctuateSpeech: with punctuate or smart_format, a Speech
// recognizer's words get Deepgram's sentence form (first word capitalised,
// a period after the last, nothing doubled) and the transcript is
// punctuated; with neither, the words are bare.
func TestPunctuateSpeech(t *testing.T) {
	sentences := []written{
		forms("Hello world.", "Hello", "world."),
		forms("Good morning.", "Good", "morning."),
		forms("Ready? Yes go!", "Ready?", "Yes", "go!"),
		forms("Well.", "Well."),
		forms("I see.", "I", "see."),
		forms("'Cause 3d.", "'Cause", "3d."),
	}
	bareWords := []written{
		bare("hello world", 2), bare("good morning", 2), bare("ready yes go", 3), bare("well", 1), bare("i see", 2),
		bare("'cause 3d", 2),
	}
	for _, tc := range []struct {
		query string
		want  []written
	}{
		{"&punctuate=true", sentences},
		{"&smart_format=true", sentences},
		{"&punctuate=false&smart_format=true", sentences},
		{"&punctuate=TRUE&smart_format=false", sentences},
		{"&punctuate=false&smart_format=false", bareWords},
		{"", bareWords},
	} {
		t.Run(tc.query, func(t *testing.T) {
			rec := &scriptedSpeech{scripted{batches: utterances}}
			td.Cmp(t, writtenForms(t, rec, tc.query), tc.want)
		})
	}
}

// TestPunctuateLabels: the words of a recognizer that is not a Speech
// recognizer (EnergyTest's names, here a script) keep their own spelling
// with punctuate; without it they are bare.
func TestPunctuateLabels(t *testing.T) {
	td.Cmp(t, writtenForms(t, &scripted{batches: utterances}, "&punctuate=true"), []written{
		forms("hello world", "hello", "world"),
		forms("Good morning.", "Good", "morning."),
		forms("ready? yes go!", "ready?", "yes", "go!"),
		forms("well,", "well,"),
		forms("i see", "i", "see"),
		forms("'cause 3d", "'cause", "3d"),
	})
	td.Cmp(t, writtenForms(t, &scripted{batches: utterances}, "&punctuate=false"), []written{
		bare("hello world", 2), bare("good morning", 2), bare("ready yes go", 3), bare("well", 1), bare("i see", 2),
		bare("'cause 3d", 2),
	})
}

// TestPunctuateFromProvider: FromProvider's recognizers are Speech
// recognizers, so a provider's words come out in sentence form.
func TestPunctuateFromProvider(t *testing.T) {
	rec, _ := newProviderRecognizer(t)
	td.Require(t).Cmp(rec, td.Isa((*emulate.Speech)(nil)))
	td.CmpTrue(t, rec.(emulate.Speech).Speech())

	p := &poolProvider{t: t, free: 1, newStream: func(s *syncStream) {
		frame := 0
		s.onAudio = func([]byte) []stages.Result {
			defer func() { frame++ }()
			if frame >= len(utterances) {
				return nil
			}
			return []stages.Result{final(utterances[frame]...)}
		}
	}}
	h := newHarness(t, emulate.Config{Recognizer: emulate.FromProvider(p)})
	ctx := testCtx(t)
	c, _, err := h.dial(ctx, stdParams, "")
	td.Require(t).CmpNoError(err)
	defer c.CloseNow()
	sendAudio(t, ctx, c, (&signal{}).silence(100*len(utterances)).pcm, 3200)
	sendText(t, ctx, c, `{"type":"CloseStream"}`)
	msgs, _ := readAll(t, ctx, c)
	td.Require(t).Cmp(msgs, td.Len(len(utterances)+2))
	var transcripts []string
	for _, m := range msgs[:len(utterances)] {
		transcripts = append(transcripts, writtenOf(t, m.Raw).Transcript)
	}
	td.Cmp(t, transcripts, []string{"Hello world.", "Good morning.", "Ready? Yes go!", "Well.", "I see.", "'Cause 3d."})
}
