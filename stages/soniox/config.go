package soniox

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults applied by New to the zero fields of a Config.
const (
	// DefaultURL is Soniox's hosted real-time endpoint.
	DefaultURL = "wss://stt-rt.soniox.com/transcribe-websocket"
	// DefaultModel is the model requested when Config.Model is empty.
	DefaultModel = "stt-rt-v4"
	// DefaultHandshakeTimeout bounds the HTTP upgrade and the start
	// message when Config.HandshakeTimeoutMs is 0.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultReadLimitBytes is the largest server message accepted when
	// Config.ReadLimitBytes is 0.
	DefaultReadLimitBytes = 1 << 20
)

// LanguageMulti is the session language that sends no language hint:
// Soniox then detects the language (and follows code-switching) itself.
const LanguageMulti = "multi"

// Languages are the session languages a gateway serving Soniox accepts:
// LanguageMulti, the ISO 639-1 codes of Soniox's supported languages
// (soniox.com/docs, "Supported languages"), and the regional variants that
// Deepgram-style clients send, for languages Soniox supports. A regional
// variant is hinted with its language ("pt-BR" sends "pt"). Dial refuses
// any other language with ErrInvalidStreamConfig. Do not modify.
var Languages = []string{
	LanguageMulti,
	"af", "ar", "az", "be", "bg", "bn", "bs", "ca", "cs", "cy", "da", "de",
	"el", "en", "es", "et", "eu", "fa", "fi", "fr", "gl", "gu", "he", "hi",
	"hr", "hu", "id", "it", "ja", "kk", "kn", "ko", "lt", "lv", "mk", "ml",
	"mr", "ms", "nl", "no", "pa", "pl", "pt", "ro", "ru", "sk", "sl", "sq",
	"sr", "sv", "sw", "ta", "te", "th", "tl", "tr", "uk", "ur", "vi", "zh",
	"en-US", "en-GB", "en-AU", "en-IN", "en-NZ", "de-CH", "es-419", "fr-CA",
	"nl-BE", "pt-BR", "pt-PT", "zh-CN", "zh-TW",
}

// languageHint maps a session language onto the start message's
// language_hints entry: "" for LanguageMulti and the empty language (no
// hint), the language subtag for the others; ok is false for a language
// not in Languages.
func languageHint(lang string) (hint string, ok bool) {
	if lang == "" || lang == LanguageMulti {
		return "", true
	}
	if !slices.Contains(Languages, lang) {
		return "", false
	}
	base, _, _ := strings.Cut(lang, "-")
	return base, true
}

// Config configures a Provider. The zero value with an APIKey is Omi's
// parameter set against Soniox's hosted API.
//
// The switches that default to true (Diarization, Endpoints) are *bool:
// nil means "default" (true), Bool(false) turns one off.
//
// A Config is a value: New copies what it needs, so changing a Config
// after New has no effect on the Provider. Its String and LogValue methods
// hide APIKey, so a Config may be logged.
type Config struct {
	// URL is the real-time endpoint, "ws://" or "wss://" with a host,
	// without query, fragment or user info. Empty means DefaultURL.
	URL string
	// APIKey is sent as "Authorization: Bearer <key>" (required). It
	// never appears in logs or errors produced by this package.
	APIKey string
	// Model is the start message's model; empty means DefaultModel.
	Model string
	// Diarization is sent as enable_speaker_diarization; nil means true.
	Diarization *bool
	// Endpoints is sent as enable_endpoint_detection (the <end> marker
	// that makes a Result SpeechFinal); nil means true.
	Endpoints *bool
	// HandshakeTimeoutMs bounds the HTTP upgrade and the start message,
	// not the stream. 0 means DefaultHandshakeTimeout; negative is invalid.
	HandshakeTimeoutMs int
	// ReadLimitBytes is the largest server message accepted; a larger one
	// ends the stream (close 1009). 0 means DefaultReadLimitBytes;
	// negative is invalid.
	ReadLimitBytes int64
	// Transport, if set, carries the HTTP upgrade (tests and in-memory
	// emulators). Nil means a clone of http.DefaultTransport with
	// keep-alives disabled, owned by the Provider.
	Transport http.RoundTripper
}

// Bool returns a pointer to v, for the *bool fields of Config.
func Bool(v bool) *bool { return &v }

// String renders the Config with APIKey hidden.
func (c Config) String() string {
	key := ""
	if c.APIKey != "" {
		key = "[redacted]"
	}
	return fmt.Sprintf("soniox.Config{URL:%q APIKey:%q Model:%q Diarization:%s Endpoints:%s "+
		"HandshakeTimeoutMs:%d ReadLimitBytes:%d Transport:%T}",
		c.URL, key, c.Model, optString(c.Diarization), optString(c.Endpoints),
		c.HandshakeTimeoutMs, c.ReadLimitBytes, c.Transport)
}

// GoString is String, so that %#v hides APIKey too.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer with APIKey hidden.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// endpoint validates the URL.
func (c *Config) endpoint() (string, error) {
	raw := c.URL
	if raw == "" {
		raw = DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("url: %w: %w", ErrInvalidConfig, err)
	}
	switch {
	case u.Scheme != "ws" && u.Scheme != "wss":
		return "", fmt.Errorf("url scheme %q (want ws or wss): %w", u.Scheme, ErrInvalidConfig)
	case u.Host == "":
		return "", fmt.Errorf("url has no host: %w", ErrInvalidConfig)
	case u.User != nil:
		return "", fmt.Errorf("url carries user info (use APIKey): %w", ErrInvalidConfig)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("url carries a query or fragment: %w", ErrInvalidConfig)
	}
	return u.String(), nil
}

// limits validates and defaults the handshake timeout and read limit.
func (c *Config) limits() (time.Duration, int64, error) {
	timeout := DefaultHandshakeTimeout
	switch {
	case c.HandshakeTimeoutMs > 0:
		timeout = time.Duration(c.HandshakeTimeoutMs) * time.Millisecond
	case c.HandshakeTimeoutMs < 0:
		return 0, 0, fmt.Errorf("handshake timeout %d ms: %w", c.HandshakeTimeoutMs, ErrInvalidConfig)
	}
	limit := int64(DefaultReadLimitBytes)
	switch {
	case c.ReadLimitBytes > 0:
		limit = c.ReadLimitBytes
	case c.ReadLimitBytes < 0:
		return 0, 0, fmt.Errorf("read limit %d bytes: %w", c.ReadLimitBytes, ErrInvalidConfig)
	}
	return timeout, limit, nil
}

// optString renders a default-true switch for String.
func optString(p *bool) string {
	if p == nil {
		return "default(true)"
	}
	return strconv.FormatBool(*p)
}

// orTrue is a default-true switch's value.
func orTrue(p *bool) bool { return p == nil || *p }
