package pipeline_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/pipeline"
	"earshot/stages/ingest"
)

func TestParseParamsDefaultsAndMapping(t *testing.T) {
	p, err := pipeline.ParseParams(url.Values{}, pipeline.DefaultLanguages)
	td.CmpNoError(t, err)
	td.Cmp(t, p, pipeline.Params{
		Language: "en", SampleRateHz: 8000, Codec: ingest.CodecPCM8, Channels: 1,
		IncludeSpeechProfile: true, ConversationTimeoutSec: 120,
	})
	q, _ := url.ParseQuery("language=auto&sample_rate=16000&codec=pcm16&conversation_timeout=-1" +
		"&include_speech_profile=false&source=omi&vad_gate=enabled&uid=x&stt_service=y")
	p, err = pipeline.ParseParams(q, pipeline.DefaultLanguages)
	td.CmpNoError(t, err)
	td.Cmp(t, p, pipeline.Params{
		Language: "multi", SampleRateHz: 16000, Codec: ingest.CodecPCM16, Channels: 1,
		ConversationTimeoutSec: 4 * 3600, Source: "omi", VADGate: "enabled",
	})
	q, _ = url.ParseQuery("conversation_timeout=30")
	p, err = pipeline.ParseParams(q, pipeline.DefaultLanguages)
	td.CmpNoError(t, err)
	td.Cmp(t, p.ConversationTimeoutSec, 120, "raised to 120")
}

func TestParseParamsRejects(t *testing.T) {
	for _, q := range []string{
		"sample_rate=16k", "sample_rate=7999", "sample_rate=96000", "codec=opus",
		"language=klingon", "channels=0", "include_speech_profile=maybe",
		"conversation_timeout=soon", "vad_gate=on",
	} {
		v, _ := url.ParseQuery(q)
		_, err := pipeline.ParseParams(v, pipeline.DefaultLanguages)
		td.CmpTrue(t, errors.Is(err, pipeline.ErrBadParam), q)
		var pe *pipeline.ParamError
		td.CmpTrue(t, errors.As(err, &pe), q)
		td.Cmp(t, len(pe.Reason), td.Between(1, 123), "%s: reason fits a close frame", q)
	}
}

// FuzzParseParams: any query either parses into a session that is safe to
// run, or is refused with a reason that fits a close frame.
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{
		"", "language=en&sample_rate=16000&codec=pcm16", "sample_rate=-1",
		"language=%ff%fe", "language=" + strings.Repeat("😀", 40), "codec=" + string(make([]byte, 300)), "conversation_timeout=-1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, err := pipeline.ParseParams(q, pipeline.DefaultLanguages)
		if err != nil {
			var pe *pipeline.ParamError
			if !errors.As(err, &pe) || len(pe.Reason) > 123 || pe.Reason == "" {
				t.Fatalf("bad refusal %v for %q", err, raw)
			}
			return
		}
		if p.SampleRateHz < 8000 || p.SampleRateHz > 48000 || p.Channels != 1 || p.ConversationTimeoutSec < 120 {
			t.Fatalf("accepted unsafe params %+v for %q", p, raw)
		}
	})
}
