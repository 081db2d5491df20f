package soniox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/soniox"
)

func TestStartMessage(t *testing.T) {
	t.Parallel()
	def, err := soniox.New(soniox.Config{APIKey: testKey})
	td.Require(t).CmpNoError(err)
	custom, err := soniox.New(soniox.Config{
		APIKey: testKey, Model: "stt-rt-v5", Diarization: soniox.Bool(false), Endpoints: soniox.Bool(false),
	})
	td.Require(t).CmpNoError(err)
	for _, tc := range []struct {
		name string
		p    *soniox.Provider
		sc   stages.StreamConfig
		want string
	}{
		{"english 16k", def, en16k,
			`{"model":"stt-rt-v4","audio_format":"pcm_s16le","sample_rate":16000,"num_channels":1,` +
				`"language_hints":["en"],"enable_speaker_diarization":true,"enable_endpoint_detection":true}`},
		{"multi 8k", def, stages.StreamConfig{SampleRateHz: 8000, Channels: 1, Language: "multi"},
			`{"model":"stt-rt-v4","audio_format":"pcm_s16le","sample_rate":8000,"num_channels":1,` +
				`"enable_speaker_diarization":true,"enable_endpoint_detection":true}`},
		{"no language, 48k, 0 channels", def, stages.StreamConfig{SampleRateHz: 48000},
			`{"model":"stt-rt-v4","audio_format":"pcm_s16le","sample_rate":48000,"num_channels":1,` +
				`"enable_speaker_diarization":true,"enable_endpoint_detection":true}`},
		{"regional variant, switches off", custom, stages.StreamConfig{SampleRateHz: 24000, Channels: 2, Language: "pt-BR"},
			`{"model":"stt-rt-v5","audio_format":"pcm_s16le","sample_rate":24000,"num_channels":2,` +
				`"language_hints":["pt"],"enable_speaker_diarization":false,"enable_endpoint_detection":false}`},
	} {
		got, err := tc.p.StartMessage(tc.sc)
		td.Require(t).CmpNoError(err, tc.name)
		td.Cmp(t, string(got), tc.want, tc.name)
	}
}

func TestStartMessageInvalidStreamConfig(t *testing.T) {
	t.Parallel()
	p, err := soniox.New(soniox.Config{APIKey: testKey})
	td.Require(t).CmpNoError(err)
	for _, sc := range []stages.StreamConfig{
		{}, {SampleRateHz: -1}, {SampleRateHz: 16000, Channels: -2},
		{SampleRateHz: 16000, Language: "xx"}, {SampleRateHz: 16000, Language: "EN"}, {SampleRateHz: 16000, Language: "auto"},
	} {
		_, err := p.StartMessage(sc)
		td.Cmp(t, err, td.ErrorIs(soniox.ErrInvalidStreamConfig), "%+v", sc)
		_, err = p.Dial(context.Background(), sc)
		td.Cmp(t, stages.Classify(err), stages.ClassPermanent, "%+v", sc)
	}
}

func TestLanguages(t *testing.T) {
	t.Parallel()
	td.Cmp(t, soniox.Languages[0], soniox.LanguageMulti)
	td.Cmp(t, soniox.Languages, td.SuperBagOf("multi", "en", "es", "fr", "de", "pt", "zh", "ja", "ko", "hi", "ar", "uk", "cy"))
	td.Cmp(t, len(slices.Compact(slices.Sorted(slices.Values(soniox.Languages)))), len(soniox.Languages), "no duplicates")
	p, err := soniox.New(soniox.Config{APIKey: testKey})
	td.Require(t).CmpNoError(err)
	bases := 0
	for _, lang := range soniox.Languages {
		base, region, regional := strings.Cut(lang, "-")
		switch {
		case lang == soniox.LanguageMulti:
		case regional:
			td.Cmp(t, soniox.Languages, td.Contains(base), "the base of %s is supported", lang)
			td.Cmp(t, region, td.Re(`^([A-Z]{2}|[0-9]{3})$`), lang)
		default:
			bases++
			td.Cmp(t, lang, td.Re(`^[a-z]{2}$`), "ISO 639-1")
		}
		msg, err := p.StartMessage(stages.StreamConfig{SampleRateHz: 16000, Language: lang})
		td.Require(t).CmpNoError(err, lang)
		var start struct {
			Hints []string `json:"language_hints"`
		}
		td.Require(t).CmpNoError(json.Unmarshal(msg, &start))
		if lang == soniox.LanguageMulti {
			td.Cmp(t, start.Hints, td.Nil())
		} else {
			td.Cmp(t, start.Hints, []string{base}, lang)
		}
	}
	td.Cmp(t, bases, 60, "Soniox's 60 languages")
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]soniox.Config{
		"no key":      {APIKey: ""},
		"key space":   {APIKey: "sekrit key"},
		"key newline": {APIKey: "sekrit\nInjected: yes"},
		"http scheme": {URL: "https://stt-rt.soniox.com/transcribe-websocket"},
		"no scheme":   {URL: "stt-rt.soniox.com/transcribe-websocket"},
		"no host":     {URL: "wss:///transcribe-websocket"},
		"query":       {URL: "wss://stt-rt.soniox.com/transcribe-websocket?x=1"},
		"fragment":    {URL: "wss://stt-rt.soniox.com/transcribe-websocket#x"},
		"user info":   {URL: "wss://user:sekrit@stt-rt.soniox.com/"},
		"unparsable":  {URL: "wss://[::1"},
		"handshake":   {HandshakeTimeoutMs: -1},
		"read limit":  {ReadLimitBytes: -1},
	} {
		if cfg.APIKey == "" && name != "no key" {
			cfg.APIKey = "sekrit-key"
		}
		_, err := soniox.New(cfg)
		td.Cmp(t, err, td.ErrorIs(soniox.ErrInvalidConfig), name)
		if err != nil {
			td.Cmp(t, err.Error(), td.Not(td.Contains("sekrit")), name)
			td.Cmp(t, err.Error(), td.Re(`^[a-z]`), "lowercase: %s", name)
		}
	}
}

func TestConfigHidesKey(t *testing.T) {
	t.Parallel()
	cfg := soniox.Config{APIKey: "sekrit-key", Model: "stt-rt-v4", Endpoints: soniox.Bool(false)}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("cfg", "config", cfg)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("cfg", "config", cfg)
	for _, s := range []string{
		fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%v", &cfg), logged.String(),
	} {
		td.Cmp(t, s, td.All(td.Not(td.Contains("sekrit")), td.Contains("stt-rt-v4"),
			td.Contains("Diarization:default(true)"), td.Contains("Endpoints:false")))
	}
}

func TestProviderName(t *testing.T) {
	t.Parallel()
	p, err := soniox.New(soniox.Config{APIKey: testKey})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, p.Name(), "soniox")
	var _ stages.Provider = p
}
