package deepgram_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/deepgram"
)

var en16k = stages.StreamConfig{SampleRateHz: 16000, Channels: 1, Language: "en"}

func TestListenURLDefaults(t *testing.T) {
	t.Parallel()
	p, err := deepgram.New(deepgram.Config{APIKey: "k"})
	td.Require(t).CmpNoError(err)
	raw, err := p.ListenURL(en16k)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, raw, "wss://api.deepgram.com/v1/listen?model=nova-3&language=en&encoding=linear16"+
		"&sample_rate=16000&channels=1&punctuate=true&no_delay=true&endpointing=300"+
		"&interim_results=false&smart_format=true&diarize=true&filler_words=false",
		"Omi's parameter set, in a stable order")
}

func TestListenURLOptions(t *testing.T) {
	t.Parallel()
	p, err := deepgram.New(deepgram.Config{
		URL:            "ws://localhost:8080/v1/listen",
		Model:          "nova-2",
		Punctuate:      deepgram.Bool(false),
		NoDelay:        deepgram.Bool(false),
		SmartFormat:    deepgram.Bool(false),
		Diarize:        deepgram.Bool(false),
		FillerWords:    true,
		InterimResults: true,
		EndpointingMs:  deepgram.EndpointingOff,
		Extra:          url.Values{"keyterm": {"Omi", "earshot & co"}, "tag": {"x"}},
	})
	td.Require(t).CmpNoError(err)
	raw, err := p.ListenURL(stages.StreamConfig{SampleRateHz: 8000, Language: "multi"})
	td.Require(t).CmpNoError(err)
	u, err := url.Parse(raw)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, u.Scheme+"://"+u.Host+u.Path, "ws://localhost:8080/v1/listen")
	td.Cmp(t, u.Query(), url.Values{
		"model": {"nova-2"}, "language": {"multi"}, "encoding": {"linear16"},
		"sample_rate": {"8000"}, "channels": {"1"}, "punctuate": {"false"},
		"no_delay": {"false"}, "endpointing": {"false"}, "interim_results": {"true"},
		"smart_format": {"false"}, "diarize": {"false"}, "filler_words": {"true"},
		"keyterm": {"Omi", "earshot & co"}, "tag": {"x"},
	})
	td.Cmp(t, raw, td.HasSuffix("&keyterm=Omi&keyterm=earshot+%26+co&tag=x"), "Extra last, keys sorted")
}

func TestListenURLEndpointingAndLanguage(t *testing.T) {
	t.Parallel()
	p, err := deepgram.New(deepgram.Config{EndpointingMs: 10})
	td.Require(t).CmpNoError(err)
	raw, err := p.ListenURL(stages.StreamConfig{SampleRateHz: 48000})
	td.Require(t).CmpNoError(err)
	u, err := url.Parse(raw)
	td.Require(t).CmpNoError(err)
	q := u.Query()
	td.Cmp(t, q.Get("endpointing"), "10")
	td.Cmp(t, q.Has("language"), false, "empty language is omitted")
	td.Cmp(t, q.Get("channels"), "1", "0 channels means mono")
}

func TestListenURLInvalidStreamConfig(t *testing.T) {
	t.Parallel()
	p, err := deepgram.New(deepgram.Config{})
	td.Require(t).CmpNoError(err)
	for _, sc := range []stages.StreamConfig{{}, {SampleRateHz: -1}, {SampleRateHz: 16000, Channels: -2}} {
		_, err := p.ListenURL(sc)
		td.Cmp(t, err, td.ErrorIs(deepgram.ErrInvalidStreamConfig), "%+v", sc)
		_, err = p.Dial(context.Background(), sc)
		td.Cmp(t, stages.Classify(err), stages.ClassPermanent, "%+v", sc)
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]deepgram.Config{
		"http scheme":   {URL: "https://api.deepgram.com/v1/listen"},
		"no scheme":     {URL: "api.deepgram.com/v1/listen"},
		"no host":       {URL: "wss:///v1/listen"},
		"query":         {URL: "wss://api.deepgram.com/v1/listen?model=x"},
		"user info":     {URL: "wss://user:secret@api.deepgram.com/v1/listen"},
		"unparsable":    {URL: "wss://[::1"},
		"endpointing":   {EndpointingMs: -2},
		"handshake":     {HandshakeTimeoutMs: -1},
		"read limit":    {ReadLimitBytes: -1},
		"managed extra": {Extra: url.Values{"model": {"nova-2"}}},
		"empty key":     {Extra: url.Values{"": {"x"}}},
	} {
		cfg.APIKey = "sekrit-key"
		_, err := deepgram.New(cfg)
		td.Cmp(t, err, td.ErrorIs(deepgram.ErrInvalidConfig), name)
		if err != nil {
			td.Cmp(t, err.Error(), td.Not(td.Contains("sekrit")), name)
			td.Cmp(t, err.Error(), td.Re(`^[a-z]`), "lowercase: %s", name)
		}
	}
}

func TestConfigHidesKey(t *testing.T) {
	t.Parallel()
	cfg := deepgram.Config{APIKey: "sekrit-key", Model: "nova-3"}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("cfg", "config", cfg)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("cfg", "config", cfg)
	for _, s := range []string{
		fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%v", &cfg), logged.String(),
	} {
		td.Cmp(t, s, td.All(td.Not(td.Contains("sekrit")), td.Contains("nova-3")))
	}
}

func TestProviderName(t *testing.T) {
	t.Parallel()
	p, err := deepgram.New(deepgram.Config{})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, p.Name(), "deepgram")
	var _ stages.Provider = p
	td.Cmp(t, errors.Is(err, deepgram.ErrInvalidConfig), false)
}
