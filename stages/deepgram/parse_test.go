package deepgram_test

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/deepgram"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the parser's output")

// outcome is the golden form of one Parse call.
type outcome struct {
	OK     bool           `json:"ok"`
	Result *stages.Result `json:"result,omitempty"`
	Error  *errOutcome    `json:"error,omitempty"`
}

type errOutcome struct {
	Class     string `json:"class"`
	Code      string `json:"code"`
	Reason    string `json:"reason"`
	Malformed bool   `json:"malformed"`
}

func parseOutcome(t testing.TB, p *deepgram.Parser, frame []byte) outcome {
	t.Helper()
	res, ok, err := p.Parse(frame)
	o := outcome{OK: ok}
	if ok {
		o.Result = &res
	}
	if err != nil {
		var ue *stages.UpstreamError
		if !errors.As(err, &ue) {
			t.Fatalf("Parse error is not an *UpstreamError: %v", err)
		}
		o.Error = &errOutcome{
			Class:     stages.Classify(err).String(),
			Code:      ue.Code,
			Reason:    ue.Reason,
			Malformed: errors.Is(err, deepgram.ErrMalformed),
		}
	}
	return o
}

func TestParseGolden(t *testing.T) {
	frames, err := filepath.Glob(filepath.Join("testdata", "frames", "*.json"))
	td.Require(t).CmpNoError(err)
	td.Require(t).Gt(len(frames), 5)
	var p deepgram.Parser // reused across frames, as a stream does
	for _, path := range frames {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			frame, err := os.ReadFile(path)
			td.Require(t).CmpNoError(err)
			got := parseOutcome(t, &p, frame)
			golden := filepath.Join("testdata", "golden", name)
			if *update {
				b, err := json.MarshalIndent(got, "", "  ")
				td.Require(t).CmpNoError(err)
				td.Require(t).CmpNoError(os.WriteFile(golden, append(b, '\n'), 0o644))
			}
			td.Cmp(t, got, td.JSON(golden))
		})
	}
}

func TestParseResultsFields(t *testing.T) {
	frame, err := os.ReadFile(filepath.Join("testdata", "frames", "results_final.json"))
	td.Require(t).CmpNoError(err)
	var p deepgram.Parser
	res, ok, err := p.Parse(frame)
	td.Require(t).CmpNoError(err)
	td.Require(t).True(ok)
	td.Cmp(t, res, td.Struct(stages.Result{
		StartSec: 10.02, DurationSec: 2.48, IsFinal: true, SpeechFinal: true,
	}, td.StructFields{
		"Words": td.Len(5),
	}))
	td.Cmp(t, res.Words[0], stages.Word{
		Word: "hello", Punctuated: "Hello,", StartSec: 10.08, EndSec: 10.4, Speaker: 0, Confidence: 0.99853516,
	})
	td.Cmp(t, res.Words[4], td.SStruct(stages.Word{Word: "you", Punctuated: "you?", Speaker: 1},
		td.StructFields{"StartSec": 11.68, "EndSec": 12.18, "Confidence": td.N(0.998, 0.001)}))
}

func TestParseFallbacks(t *testing.T) {
	var p deepgram.Parser
	res, ok, err := p.Parse([]byte(`{"type":"Results","is_final":true,"channel":{"alternatives":[{"words":[` +
		`{"word":"uh","start":0.1,"end":0.3,"confidence":-0.5}]}]}}`))
	td.Require(t).CmpNoError(err)
	td.Require(t).True(ok)
	td.Cmp(t, res.Words, []stages.Word{{Word: "uh", Punctuated: "uh", StartSec: 0.1, EndSec: 0.3}},
		"punctuated falls back to word, absent speaker is 0, confidence clamped")
}

func TestParseReuseDoesNotLeak(t *testing.T) {
	var p deepgram.Parser
	_, _, err := p.Parse([]byte(`{"type":"Results","is_final":true,"speech_final":true,"from_finalize":true,` +
		`"channel":{"alternatives":[{"words":[{"word":"a","punctuated_word":"A.","speaker":3,"confidence":1},` +
		`{"word":"b","punctuated_word":"B.","speaker":4}]}]}}`))
	td.Require(t).CmpNoError(err)
	res, ok, err := p.Parse([]byte(`{"type":"Results","channel":{"alternatives":[{"words":[{"word":"c"}]}]}}`))
	td.Require(t).CmpNoError(err)
	td.Require(t).True(ok)
	td.Cmp(t, res, stages.Result{Words: []stages.Word{{Word: "c", Punctuated: "c"}}},
		"nothing from the previous frame survives")
}

func TestParseInBandError(t *testing.T) {
	var p deepgram.Parser
	_, ok, err := p.Parse([]byte(`{"type":"Error","description":"Something broke\n\tbadly","variant":"NET-0001"}`))
	td.Cmp(t, ok, false)
	td.Cmp(t, err, td.Isa(&stages.UpstreamError{}))
	td.Cmp(t, err, td.Struct(&stages.UpstreamError{Code: "NET-0001", Reason: "Something broke  badly"}))
	td.Cmp(t, stages.Classify(err), stages.ClassRetryable)
}

func FuzzParseResults(f *testing.F) {
	frames, err := filepath.Glob(filepath.Join("testdata", "frames", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range frames {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"type":"Results","channel":{"alternatives":[{"words":[{"word":"x","speaker":null}]}]}}`))
	f.Add([]byte(`{"type":"Results","start":1e400}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	dirty, err := os.ReadFile(filepath.Join("testdata", "frames", "results_final.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		var fresh, reused deepgram.Parser
		_, _, _ = reused.Parse(dirty)
		res, ok, err := fresh.Parse(frame)
		res2, ok2, err2 := reused.Parse(frame)
		if ok != ok2 || (err == nil) != (err2 == nil) || !equalResults(res, res2) {
			t.Fatalf("reused parser differs: %v/%v/%v vs %v/%v/%v", res, ok, err, res2, ok2, err2)
		}
		if ok && err != nil {
			t.Fatalf("ok with error %v", err)
		}
		if err != nil {
			var ue *stages.UpstreamError
			if !errors.As(err, &ue) || stages.Classify(err) != stages.ClassRetryable {
				t.Fatalf("error %v is not a retryable *UpstreamError", err)
			}
			if len(ue.Reason) > 160 || len(ue.Code) > 160 {
				t.Fatalf("unbounded reason %q / code %q", ue.Reason, ue.Code)
			}
		}
		if !ok && len(res.Words) != 0 {
			t.Fatalf("words without a result: %v", res)
		}
		for _, w := range res.Words {
			if w.Confidence < 0 || w.Confidence > 1 {
				t.Fatalf("confidence %v out of [0,1]", w.Confidence)
			}
			if w.Punctuated == "" && w.Word != "" {
				t.Fatalf("no punctuated form for %q", w.Word)
			}
		}
	})
}

func equalResults(a, b stages.Result) bool {
	if len(a.Words) != len(b.Words) {
		return false
	}
	for i := range a.Words {
		if a.Words[i] != b.Words[i] {
			return false
		}
	}
	return a.StartSec == b.StartSec && a.DurationSec == b.DurationSec && a.IsFinal == b.IsFinal &&
		a.SpeechFinal == b.SpeechFinal && a.FromFinalize == b.FromFinalize
}

func BenchmarkParseResults(b *testing.B) {
	frame, err := os.ReadFile(filepath.Join("testdata", "frames", "results_final.json"))
	if err != nil {
		b.Fatal(err)
	}
	var p deepgram.Parser
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := p.Parse(frame); !ok || err != nil {
			b.Fatal("parse failed", err)
		}
	}
}
