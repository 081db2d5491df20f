package pipeline_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/pipeline"
	"earshot/protocol"
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
		UID: "x", App: pipeline.AppParams{STTService: "y"},
	})
	q, _ = url.ParseQuery("conversation_timeout=30")
	p, err = pipeline.ParseParams(q, pipeline.DefaultLanguages)
	td.CmpNoError(t, err)
	td.Cmp(t, p.ConversationTimeoutSec, 120, "raised to 120")
}

// appQuery is the query the Omi app sends (its ListenRequest, 2026-08),
// with a parameter nobody knows yet.
const appQuery = "language=en&sample_rate=16000&codec=opus&channels=1&include_speech_profile=true" +
	"&conversation_timeout=120&source=omi&uid=u-123&stt_service=soniox&custom_stt=disabled" +
	"&onboarding=disabled&speaker_auto_assign=disabled&create_speakers=true&call_id=c-9" +
	"&client_conversation_id=conv-7&some_future_flag=%00whatever"

// TestParseParamsAcceptsEverythingTheAppSends: every parameter of the
// app's URL is accepted; those the gateway does not act on are kept as
// text, and an unknown one is ignored.
func TestParseParamsAcceptsEverythingTheAppSends(t *testing.T) {
	q, err := url.ParseQuery(appQuery)
	td.Require(t).CmpNoError(err)
	p, err := pipeline.ParseParams(q, pipeline.DefaultLanguages)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, p, pipeline.Params{
		Language: "en", SampleRateHz: 16000, Codec: ingest.CodecOpus, Channels: 1,
		IncludeSpeechProfile: true, ConversationTimeoutSec: 120, Source: "omi", UID: "u-123",
		App: pipeline.AppParams{
			STTService: "soniox", CustomSTT: "disabled", Onboarding: "disabled", SpeakerAutoAssign: "disabled",
			CreateSpeakers: "true", CallID: "c-9", ClientConversationID: "conv-7",
		},
	})
	// Values the gateway only keeps are never fatal, whatever they hold.
	q, _ = url.ParseQuery("custom_stt=%FF%FE&onboarding=" + strings.Repeat("x", 5000) + "&create_speakers=maybe")
	p, err = pipeline.ParseParams(q, pipeline.DefaultLanguages)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, len(p.App.Onboarding), td.Lte(128+len("…")), "clipped")
	td.Cmp(t, p.App.CustomSTT, "")
	td.Cmp(t, p.App.CreateSpeakers, "maybe")
}

func TestParseParamsRejects(t *testing.T) {
	for _, q := range []string{
		"sample_rate=16k", "sample_rate=7999", "sample_rate=96000", "codec=opus&sample_rate=11025", "codec=mp3",
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

// TestParseParamsCodecs: every codec with a rate it can produce is
// accepted; a rate Opus or LC3 cannot produce, or a name the gateway does
// not know, is refused with 1003 (Omi's code for a bad format), naming it.
func TestParseParamsCodecs(t *testing.T) {
	for _, in := range ingest.Codecs() {
		rate := 16000
		q, _ := url.ParseQuery("sample_rate=16000&codec=" + string(in.Codec))
		p, err := pipeline.ParseParams(q, pipeline.DefaultLanguages)
		if !in.Available {
			var pe *pipeline.ParamError
			td.Require(t).True(errors.As(err, &pe), in.Codec)
			td.Cmp(t, pe.CloseCode(), protocol.CloseUnsupportedData, in.Codec)
			td.Cmp(t, pe.Reason, td.Re(`^codec `+string(in.Codec)+` needs a build with -tags libcodecs`))
			continue
		}
		td.CmpNoError(t, err, in.Codec)
		td.Cmp(t, p.Codec, in.Codec)
		td.Cmp(t, p.SampleRateHz, rate)
	}
	for q, reason := range map[string]string{
		"codec=opus_fs320&sample_rate=44100": "codec opus_fs320 cannot produce sample_rate 44100 (only 8000, 12000, 16000, 24000, 48000)",
		"codec=mp3":                          `codec "mp3" is not supported (`,
		"codec=" + strings.Repeat("x", 40):   `codec "xxxxxxxxxxxxxxxx…" is not supported (`,
	} {
		v, _ := url.ParseQuery(q)
		_, err := pipeline.ParseParams(v, pipeline.DefaultLanguages)
		var pe *pipeline.ParamError
		td.Require(t).True(errors.As(err, &pe), q)
		td.Cmp(t, pe.CloseCode(), protocol.CloseUnsupportedData, q)
		td.Cmp(t, pe.Reason, td.HasPrefix(reason), q)
		td.Cmp(t, len(pe.Reason), td.Lte(123), q)
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
