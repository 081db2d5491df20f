package soniox_test

import (
	"strconv"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/soniox"
)

// errorCases are Soniox's documented error codes and their classes.
var errorCases = []struct {
	code    int
	message string
	class   stages.Class
}{
	{400, "Invalid model specified.", stages.ClassPermanent},
	{401, "Invalid API key.", stages.ClassPermanent},
	{402, "Organization balance exhausted.", stages.ClassPermanent},
	{403, "Forbidden.", stages.ClassPermanent},
	{408, "Request timeout: audio data too slow.", stages.ClassRetryable},
	{429, "Concurrent request limit reached.", stages.ClassRetryable},
	{500, "Internal server error.", stages.ClassRetryable},
	{503, "Cannot continue request (code 4). Please restart the request.", stages.ClassRetryable},
}

func TestParseErrorResponses(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			var p soniox.Parser
			dst := []stages.Result{{IsFinal: true}}
			got, err := p.Parse(dst, []byte(`{"error_code":`+strconv.Itoa(tc.code)+`,"error_message":"`+tc.message+`"}`))
			td.Cmp(t, got, dst, "dst untouched")
			td.Cmp(t, err, td.Isa(&stages.UpstreamError{}))
			td.Cmp(t, err, td.Struct(&stages.UpstreamError{
				HTTPStatus: tc.code, Code: "SONIOX-" + strconv.Itoa(tc.code), Reason: tc.message,
			}, td.StructFields{"Err": td.ErrorIs(soniox.ErrResponse)}))
			td.Cmp(t, stages.Classify(err), tc.class)
			td.Cmp(t, stages.Reason(err), "SONIOX-"+strconv.Itoa(tc.code)+": "+tc.message)
		})
	}
}

func TestParseErrorResponseOddShapes(t *testing.T) {
	for frame, want := range map[string]*stages.UpstreamError{
		`{"error_code":"429","error_message":"slow down"}`:  {HTTPStatus: 429, Code: "SONIOX-429", Reason: "slow down"},
		`{"error_code":1001,"error_message":"odd\n\tcode"}`: {Code: "SONIOX-1001", Reason: "odd  code"},
		`{"error_message":"no code"}`:                       {Code: "SONIOX-0", Reason: "no code"},
		`{"error_code":401}`:                                {HTTPStatus: 401, Code: "SONIOX-401", Reason: "upstream error"},
	} {
		var p soniox.Parser
		_, err := p.Parse(nil, []byte(frame))
		td.Cmp(t, err, td.Struct(want, td.StructFields{"Err": soniox.ErrResponse}), frame)
	}
}

func TestParseMalformed(t *testing.T) {
	for _, frame := range []string{`not json`, `[]`, `{"tokens":"x"}`, `{"tokens":[{"text":1}]}`, `{"final_audio_proc_ms":"x"}`, ``} {
		var p soniox.Parser
		_, err := p.Parse(nil, []byte(frame))
		td.Cmp(t, err, td.All(td.Isa(&stages.UpstreamError{}), td.ErrorIs(soniox.ErrMalformed)), "%q", frame)
		td.Cmp(t, stages.Classify(err), stages.ClassRetryable, "%q", frame)
	}
}

func TestParseSkipsWhatItDoesNotKnow(t *testing.T) {
	var p soniox.Parser
	got := parse(t, &p,
		`null`, `{}`, `{"tokens":[]}`, `{"tokens":null,"unknown":{"a":[1,2]}}`,
		`{"tokens":[{"text":" hola","start_ms":0,"end_ms":100,"is_final":true,"translation_status":"translation"},`+
			`{"text":"","start_ms":0,"end_ms":100,"is_final":true},`+
			`{"text":" Hi","start_ms":0,"end_ms":100,"confidence":0.5,"is_final":true,"translation_status":"original"},`+
			`{"text":"<end>","is_final":true}]}`)
	td.Cmp(t, got, []stages.Result{{
		Words:    []stages.Word{{Word: "hi", Punctuated: "Hi", EndSec: 0.1, Confidence: 0.5}},
		StartSec: 0, DurationSec: 0.1, IsFinal: true, SpeechFinal: true,
	}}, "translations and empty tokens are skipped")
}

func TestParseReuseDoesNotLeak(t *testing.T) {
	var p soniox.Parser
	_ = parse(t, &p, resp(100, fin(" A", 0, 100).spk("3"), fin(" B", 100, 200).spk("4"), endTok))
	got := parse(t, &p, `{"tokens":[{"text":" c","is_final":true},{"text":"<end>","is_final":true}]}`)
	td.Cmp(t, got, td.Len(1))
	td.Cmp(t, got[0].Words, []stages.Word{{Word: "c", Punctuated: "c", StartSec: 0.1, EndSec: 0.2}},
		"nothing of the earlier tokens survives; times never go back")
}

func TestParseTamesTimes(t *testing.T) {
	var p soniox.Parser
	got := parse(t, &p, resp(0,
		fin(" a", 500, 400), fin(" b", 100, 200), fin(" c", -50, 900), endTok))
	td.Cmp(t, got, td.Len(1))
	td.Cmp(t, got[0].Words, []stages.Word{
		word("a", "a", 0.5, 0.5), word("b", "b", 0.5, 0.5), word("c", "c", 0.5, 0.9),
	}, "ends never before starts, neither ever goes back")
}

func TestParseResultsOwnTheirWords(t *testing.T) {
	var p soniox.Parser
	first := parse(t, &p, resp(100, fin(" one", 0, 100), endTok))
	_ = parse(t, &p, resp(200, fin(" two", 100, 200), endTok))
	td.Cmp(t, first[0].Words, []stages.Word{word("one", "one", 0, 0.1)}, "not overwritten by the next Parse")
}

func BenchmarkParse(b *testing.B) {
	frame := []byte(resp(2000,
		fin(" How", 0, 100), fin(" are", 150, 250), fin(" yo", 300, 400), fin("u", 400, 480), fin("?", 480, 490),
		fin(" I", 600, 700), fin(" am", 700, 800), fin(" fi", 850, 900), fin("ne", 900, 1000), fin(".", 1000, 1010), endTok,
		interim(" And", 1500, 1600), interim(" you", 1600, 1700)))
	var p soniox.Parser
	var dst []stages.Result
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = p.Parse(dst[:0], frame); err != nil || len(dst) != 1 {
			b.Fatal("parse failed", err)
		}
	}
}
