package soniox_test

import (
	"encoding/json"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/soniox"
)

// tok is a token as Soniox sends it.
type tok struct {
	Text       string  `json:"text"`
	StartMs    int     `json:"start_ms"`
	EndMs      int     `json:"end_ms"`
	Confidence float64 `json:"confidence"`
	IsFinal    bool    `json:"is_final"`
	Speaker    string  `json:"speaker,omitempty"`
	Language   string  `json:"language,omitempty"`
}

// fin is a final token of speaker "1".
func fin(text string, startMs, endMs int) tok {
	return tok{Text: text, StartMs: startMs, EndMs: endMs, Confidence: 0.9, IsFinal: true, Speaker: "1", Language: "en"}
}

// interim is a non-final token.
func interim(text string, startMs, endMs int) tok {
	t := fin(text, startMs, endMs)
	t.IsFinal = false
	return t
}

// spk sets a token's speaker label.
func (t tok) spk(label string) tok { t.Speaker = label; return t }

// conf sets a token's confidence.
func (t tok) conf(c float64) tok { t.Confidence = c; return t }

// Markers as Soniox sends them.
var (
	endTok = tok{Text: "<end>", Confidence: 1, IsFinal: true}
	finTok = tok{Text: "<fin>", Confidence: 1, IsFinal: true}
)

// resp encodes a response whose final tokens reach finalMs.
func resp(finalMs int, toks ...tok) string {
	b, err := json.Marshal(struct {
		Tokens []tok `json:"tokens"`
		Final  int   `json:"final_audio_proc_ms"`
		Total  int   `json:"total_audio_proc_ms"`
	}{toks, finalMs, finalMs + 120})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// word is a Word of speaker index 0 with confidence 0.9.
func word(bare, punctuated string, startSec, endSec float64) stages.Word {
	return stages.Word{Word: bare, Punctuated: punctuated, StartSec: startSec, EndSec: endSec, Confidence: 0.9}
}

// parse feeds frames to p in order and returns every Result.
func parse(t testing.TB, p *soniox.Parser, frames ...string) []stages.Result {
	t.Helper()
	var all []stages.Result
	for _, f := range frames {
		var err error
		all, err = p.Parse(all, []byte(f))
		td.Require(t).CmpNoError(err, f)
	}
	return all
}

func TestJoinSubwordTokensAndPunctuation(t *testing.T) {
	var p soniox.Parser
	got := parse(t, &p, resp(900,
		fin("Hel", 10, 120), fin("lo", 120, 300), fin(",", 300, 310),
		fin(" wor", 400, 520), fin("ld", 520, 700), fin(".", 700, 710), endTok))
	td.Cmp(t, got, []stages.Result{{
		Words: []stages.Word{
			word("hello", "Hello,", 0.01, 0.31),
			word("world", "world.", 0.4, 0.71),
		},
		StartSec: 0, DurationSec: 0.9, IsFinal: true, SpeechFinal: true,
	}})
}

func TestJoinWordSplitAcrossResponses(t *testing.T) {
	var p soniox.Parser
	got := parse(t, &p,
		resp(500, fin(" How", 0, 100), fin(" are", 150, 250), fin(" yo", 300, 400), interim("u", 400, 450)),
		resp(900, fin("u", 400, 480), fin("?", 480, 490), fin(" I", 600, 700)),
		resp(1000, finTok))
	td.Cmp(t, got, []stages.Result{
		{Words: []stages.Word{word("how", "How", 0, 0.1), word("are", "are", 0.15, 0.25)},
			StartSec: 0, DurationSec: 0.3, IsFinal: true}, // up to the held "yo"
		{Words: []stages.Word{word("you", "you?", 0.3, 0.49)},
			StartSec: 0.3, DurationSec: 0.3, IsFinal: true}, // up to the held "I"
		{Words: []stages.Word{word("i", "I", 0.6, 0.7)},
			StartSec: 0.6, DurationSec: 0.4, IsFinal: true, FromFinalize: true},
	})
}

func TestJoinIgnoresNonFinalTokens(t *testing.T) {
	var p soniox.Parser
	got := parse(t, &p,
		resp(0, interim(" maybe", 0, 200), interim(" not", 250, 400)),
		resp(300, fin(" Maybe", 0, 200), interim(" so", 250, 400)))
	td.Cmp(t, got, td.Empty(), "the held word waits for a final token")
	res, ok := p.Flush()
	td.Cmp(t, ok, true)
	td.Cmp(t, res.Words, []stages.Word{word("maybe", "Maybe", 0, 0.2)})
	_, ok = p.Flush()
	td.Cmp(t, ok, false, "flushed once")
}

func TestJoinSpeakersAndConfidence(t *testing.T) {
	var p soniox.Parser
	got := parse(t, &p,
		resp(0, fin(" Hi", 0, 100).conf(0.8), fin(" the", 150, 200).spk("2"), fin("re", 200, 300).spk("2").conf(0.4),
			fin(" you", 350, 400).spk(""), fin(" guys", 450, 500).spk("x"), fin(" ok", 550, 600).spk("3"),
			fin("ay", 600, 650).spk("1"), endTok),
		`{"tokens":[{"text":" yes","start_ms":700,"end_ms":800,"confidence":1.7,"is_final":true,"speaker":4},`+
			`{"text":"<end>","is_final":true}]}`)
	td.Cmp(t, got, td.Len(2))
	td.Cmp(t, got[0].Words, []stages.Word{
		{Word: "hi", Punctuated: "Hi", StartSec: 0, EndSec: 0.1, Speaker: 0, Confidence: 0.8},
		{Word: "there", Punctuated: "there", StartSec: 0.15, EndSec: 0.3, Speaker: 1, Confidence: 0.4},
		{Word: "you", Punctuated: "you", StartSec: 0.35, EndSec: 0.4, Speaker: 0, Confidence: 0.9},
		{Word: "guys", Punctuated: "guys", StartSec: 0.45, EndSec: 0.5, Speaker: 0, Confidence: 0.9},
		{Word: "ok", Punctuated: "ok", StartSec: 0.55, EndSec: 0.6, Speaker: 2, Confidence: 0.9},
		{Word: "ay", Punctuated: "ay", StartSec: 0.6, EndSec: 0.65, Speaker: 0, Confidence: 0.9},
	}, "a speaker change splits a word; empty and non-numeric labels are 0")
	td.Cmp(t, got[1].Words, []stages.Word{
		{Word: "yes", Punctuated: "yes", StartSec: 0.7, EndSec: 0.8, Speaker: 3, Confidence: 1},
	}, "numeric labels, clamped confidence")
}

func TestJoinQuotesDashesApostrophes(t *testing.T) {
	var p soniox.Parser
	got := parse(t, &p, resp(2000,
		fin(" \"", 0, 10), fin("Hi", 10, 100), fin(",\"", 100, 110),
		fin(" don", 200, 300), fin("\u2019t", 300, 400),
		fin(" —", 450, 460), fin(" U", 500, 550), fin(".S", 550, 600), fin(".", 600, 610),
		fin(" rock", 700, 800), fin(" 'n'", 800, 850), fin(" roll", 900, 1000), endTok))
	td.Cmp(t, got, td.Len(1))
	td.Cmp(t, got[0].Words, []stages.Word{
		word("hi", `"Hi,"`, 0, 0.11),
		word("don't", "don\u2019t", 0.2, 0.4),
		word("us", "— U.S.", 0.45, 0.61),
		word("rock", "rock", 0.7, 0.8),
		word("n", "'n'", 0.8, 0.85),
		word("roll", "roll", 0.9, 1),
	})
}

func TestJoinUnspacedScripts(t *testing.T) {
	var p soniox.Parser
	got := parse(t, &p, resp(500,
		fin("你", 0, 100), fin("好", 100, 200), fin("。", 200, 210), fin("世界", 300, 400), finTok))
	td.Cmp(t, got, td.Len(1))
	td.Cmp(t, got[0].Words, []stages.Word{
		word("你", "你", 0, 0.1), word("好", "好。", 0.1, 0.21), word("世界", "世界", 0.3, 0.4),
	}, "every Han token is a word; punctuation attaches")
}

func TestJoinMarkersSplitAResponse(t *testing.T) {
	var p soniox.Parser
	got := parse(t, &p, resp(2000,
		fin(" One", 0, 100), fin(" two", 200, 300), fin(".", 300, 310), endTok,
		fin(" Three", 1000, 1100), fin(" four", 1200, 1300)))
	td.Cmp(t, got, []stages.Result{
		{Words: []stages.Word{word("one", "One", 0, 0.1), word("two", "two.", 0.2, 0.31)},
			StartSec: 0, DurationSec: 0.31, IsFinal: true, SpeechFinal: true},
		{Words: []stages.Word{word("three", "Three", 1, 1.1)},
			StartSec: 0.31, DurationSec: 0.89, IsFinal: true}, // up to the held "four"
	})
}

func TestJoinMarkersWithoutWords(t *testing.T) {
	var p soniox.Parser
	got := parse(t, &p,
		resp(1500, finTok),
		resp(1600, interim(" uh", 1500, 1600)),
		resp(2500, fin(".", 1500, 1510), endTok, finTok))
	td.Cmp(t, got, []stages.Result{
		{StartSec: 0, DurationSec: 1.5, IsFinal: true, FromFinalize: true},
		{StartSec: 1.5, DurationSec: 0, IsFinal: true, SpeechFinal: true},
		{StartSec: 1.5, DurationSec: 1, IsFinal: true, FromFinalize: true},
	}, "a marker always answers, words or not; stray punctuation is dropped")
}

func TestJoinFinishedFlushes(t *testing.T) {
	var p soniox.Parser
	td.Cmp(t, p.Finished(), false)
	got := parse(t, &p,
		resp(400, fin(" Bye", 0, 300)),
		`{"tokens":[{"text":".","start_ms":300,"end_ms":310,"confidence":0.9,"is_final":true,"speaker":"1"}],`+
			`"final_audio_proc_ms":500,"total_audio_proc_ms":500,"finished":true}`)
	td.Cmp(t, got, []stages.Result{{
		Words:    []stages.Word{word("bye", "Bye.", 0, 0.31)},
		StartSec: 0, DurationSec: 0.5, IsFinal: true,
	}})
	td.Cmp(t, p.Finished(), true)
	_, ok := p.Flush()
	td.Cmp(t, ok, false, "nothing left")
}
