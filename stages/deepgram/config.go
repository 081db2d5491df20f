package deepgram

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
	// DefaultURL is Deepgram's hosted live-transcription endpoint.
	DefaultURL = "wss://api.deepgram.com/v1/listen"
	// DefaultModel is the model requested when Config.Model is empty.
	DefaultModel = "nova-3"
	// DefaultEndpointingMs is the silence, in milliseconds, that ends an
	// utterance (speech_final) when Config.EndpointingMs is 0.
	DefaultEndpointingMs = 300
	// EndpointingOff, as Config.EndpointingMs, sends endpointing=false.
	EndpointingOff = -1
	// DefaultHandshakeTimeout bounds the HTTP upgrade when
	// Config.HandshakeTimeoutMs is 0.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultReadLimitBytes is the largest server message accepted when
	// Config.ReadLimitBytes is 0.
	DefaultReadLimitBytes = 1 << 20
)

// Config configures a Provider. The zero value is Omi's parameter set
// against Deepgram's hosted API (an APIKey is still needed there).
//
// The four switches that default to true (Punctuate, NoDelay, SmartFormat,
// Diarize) are *bool: nil means "default" (true), Bool(false) turns one off.
// Switches that default to false are plain bools.
//
// A Config is a value: New copies what it needs, so changing a Config
// after New has no effect on the Provider. Its String and LogValue methods
// hide APIKey, so a Config may be logged.
type Config struct {
	// URL is the listen endpoint, "ws://" or "wss://" with a host and a
	// path, without query, fragment or user info. Empty means DefaultURL.
	// ws:// serves a self-hosted Deepgram or `earshot emulate`.
	URL string
	// APIKey is sent as "Authorization: Token <key>". Empty sends no
	// Authorization header (self-hosted servers). It never appears in logs
	// or errors produced by this package.
	APIKey string
	// Model is sent as model=; empty means DefaultModel.
	Model string
	// Punctuate, NoDelay, SmartFormat and Diarize are sent as punctuate=,
	// no_delay=, smart_format= and diarize=; nil means true.
	Punctuate, NoDelay, SmartFormat, Diarize *bool
	// FillerWords is sent as filler_words= (default false).
	FillerWords bool
	// InterimResults is sent as interim_results= (default false).
	InterimResults bool
	// EndpointingMs is sent as endpointing=: 0 means DefaultEndpointingMs,
	// EndpointingOff (-1) sends "false"; other negative values are invalid.
	EndpointingMs int
	// Extra holds further parameters (e.g. keyterm), appended after the
	// managed ones in key order, each key's values in their order. A key
	// that Config or StreamConfig already sets is invalid.
	Extra url.Values
	// HandshakeTimeoutMs bounds the HTTP upgrade only, not the stream.
	// 0 means DefaultHandshakeTimeout; negative is invalid.
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

// managedParams are the query keys that Config and StreamConfig set; Extra
// may not repeat them.
var managedParams = []string{
	"model", "language", "encoding", "sample_rate", "channels",
	"punctuate", "no_delay", "endpointing", "interim_results",
	"smart_format", "diarize", "filler_words",
}

// String renders the Config with APIKey hidden.
func (c Config) String() string {
	key := ""
	if c.APIKey != "" {
		key = "[redacted]"
	}
	return fmt.Sprintf("deepgram.Config{URL:%q APIKey:%q Model:%q Punctuate:%s NoDelay:%s "+
		"SmartFormat:%s Diarize:%s FillerWords:%t InterimResults:%t EndpointingMs:%d "+
		"Extra:%v HandshakeTimeoutMs:%d ReadLimitBytes:%d Transport:%T}",
		c.URL, key, c.Model, optString(c.Punctuate), optString(c.NoDelay),
		optString(c.SmartFormat), optString(c.Diarize), c.FillerWords, c.InterimResults,
		c.EndpointingMs, map[string][]string(c.Extra), c.HandshakeTimeoutMs, c.ReadLimitBytes, c.Transport)
}

// GoString is String, so that %#v hides APIKey too.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer with APIKey hidden.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// endpoint validates the URL and returns it without query.
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
		return "", fmt.Errorf("url carries a query or fragment (use Extra): %w", ErrInvalidConfig)
	}
	return u.String(), nil
}

// fixedParams validates the recognition settings and encodes the part of
// the query that does not depend on the StreamConfig, starting with '&'.
func (c *Config) fixedParams() (string, error) {
	endpointing := strconv.Itoa(DefaultEndpointingMs)
	switch {
	case c.EndpointingMs == EndpointingOff:
		endpointing = "false"
	case c.EndpointingMs > 0:
		endpointing = strconv.Itoa(c.EndpointingMs)
	case c.EndpointingMs < 0:
		return "", fmt.Errorf("endpointing %d ms: %w", c.EndpointingMs, ErrInvalidConfig)
	}
	var b strings.Builder
	param := func(k, v string) {
		b.WriteByte('&')
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v))
	}
	param("punctuate", boolDefaultTrue(c.Punctuate))
	param("no_delay", boolDefaultTrue(c.NoDelay))
	param("endpointing", endpointing)
	param("interim_results", strconv.FormatBool(c.InterimResults))
	param("smart_format", boolDefaultTrue(c.SmartFormat))
	param("diarize", boolDefaultTrue(c.Diarize))
	param("filler_words", strconv.FormatBool(c.FillerWords))

	keys := make([]string, 0, len(c.Extra))
	for k := range c.Extra {
		switch {
		case k == "":
			return "", fmt.Errorf("extra param with an empty key: %w", ErrInvalidConfig)
		case slices.Contains(managedParams, k):
			return "", fmt.Errorf("extra param %q is set by Config: %w", k, ErrInvalidConfig)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range c.Extra[k] {
			param(k, v)
		}
	}
	return b.String(), nil
}

// durations validates and defaults the handshake timeout and read limit.
func (c *Config) durations() (time.Duration, int64, error) {
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

func boolDefaultTrue(p *bool) string {
	if p == nil {
		return "true"
	}
	return strconv.FormatBool(*p)
}
