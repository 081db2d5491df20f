// Package deepgram is the Deepgram live-transcription provider: it
// implements stages.Provider and stages.Stream over Deepgram's WebSocket
// protocol (spec/deepgram.md) and nothing more. It never sleeps, retries,
// runs timers or starts goroutines; retry, backoff, KeepAlive timing and
// reconnects belong to the connector stage.
//
// Errors follow the stages contract: a refused upgrade or an abnormal end
// is a *stages.UpstreamError (stages.Classify tells permanent from
// retryable), a cancelled context yields an error matching
// context.Canceled (stages.ClassAborted). Upstream-provided text in errors
// is short, printable and never contains the API key.
//
// # Streams
//
// A stream from Dial follows stages.Stream: SendAudio and SendControl may
// be called from one goroutine (concurrent calls are also safe: writes are
// serialised) while another calls Recv; Close may be called at any time
// from any goroutine, any number of times, and unblocks every pending
// call at once (no closing handshake).
//
// With coder/websocket, a context that ends during a read or a write
// closes the whole connection. The ctx given to SendAudio, SendControl and
// Recv is therefore a lifetime, not a per-call deadline: enforce idle
// timeouts with a watchdog that calls Close. Passing a context without a
// Done channel (context.Background, context.WithoutCancel) on the data
// path also skips the library's per-call context registration, and
// owners tear streams down with Close when the session ends.
//
// Keep Recv running for the life of a stream: it is what answers the
// server's ping and close frames.
package deepgram

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/coder/websocket"

	"earshot/internal/upstreamerr"
	"earshot/stages"
)

// Provider opens Deepgram live streams. Build it with New. A Provider is
// immutable after New and safe for concurrent use by any number of
// sessions; it holds no per-stream state.
type Provider struct {
	endpoint string // listen URL without query
	model    string // query-escaped
	fixed    string // encoded params after channels, starting with '&'
	key      string // only to scrub it from upstream-provided text
	header   http.Header
	client   *http.Client
	limit    int64
}

var _ stages.Provider = (*Provider)(nil)

// New validates cfg, applies its defaults and returns a Provider. Every
// error wraps ErrInvalidConfig and never contains the API key.
func New(cfg Config) (*Provider, error) {
	endpoint, err := cfg.endpoint()
	if err != nil {
		return nil, fmt.Errorf("deepgram: %w", err)
	}
	fixed, err := cfg.fixedParams()
	if err != nil {
		return nil, fmt.Errorf("deepgram: %w", err)
	}
	timeout, limit, err := cfg.durations()
	if err != nil {
		return nil, fmt.Errorf("deepgram: %w", err)
	}
	model := cfg.Model
	if model == "" {
		model = DefaultModel
	}
	header := http.Header{}
	if cfg.APIKey != "" {
		header.Set("Authorization", "Token "+cfg.APIKey)
	}
	transport := cfg.Transport
	if transport == nil {
		// Every dial either hijacks its connection or gets refused: an
		// idle pool would only keep refused connections (and their
		// goroutines) alive.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DisableKeepAlives = true
		transport = t
	}
	return &Provider{
		endpoint: endpoint,
		model:    url.QueryEscape(model),
		fixed:    fixed,
		key:      cfg.APIKey,
		header:   header,
		// Timeout bounds only the upgrade: websocket.Dial turns it into a
		// context deadline for the handshake request.
		client: &http.Client{Timeout: timeout, Transport: transport},
		limit:  limit,
	}, nil
}

// Name returns "deepgram", the stt_provider reported to clients.
func (p *Provider) Name() string { return "deepgram" }

// ListenURL returns the URL Dial would open for sc, parameters in the
// order model, language (omitted when empty), encoding=linear16,
// sample_rate, channels, punctuate, no_delay, endpointing,
// interim_results, smart_format, diarize, filler_words, then Extra. A
// Channels of 0 means 1. An invalid sc gives an error wrapping
// ErrInvalidStreamConfig. Safe for concurrent use.
func (p *Provider) ListenURL(sc stages.StreamConfig) (string, error) {
	if sc.SampleRateHz <= 0 {
		return "", fmt.Errorf("deepgram: sample rate %d hz: %w", sc.SampleRateHz, ErrInvalidStreamConfig)
	}
	channels := sc.Channels
	switch {
	case channels == 0:
		channels = 1
	case channels < 0:
		return "", fmt.Errorf("deepgram: %d channels: %w", sc.Channels, ErrInvalidStreamConfig)
	}
	var b strings.Builder
	b.Grow(len(p.endpoint) + len(p.fixed) + len(sc.Language) + 96)
	b.WriteString(p.endpoint)
	b.WriteString("?model=")
	b.WriteString(p.model)
	if sc.Language != "" {
		b.WriteString("&language=")
		b.WriteString(url.QueryEscape(sc.Language))
	}
	b.WriteString("&encoding=linear16&sample_rate=")
	b.WriteString(strconv.Itoa(sc.SampleRateHz))
	b.WriteString("&channels=")
	b.WriteString(strconv.Itoa(channels))
	b.WriteString(p.fixed)
	return b.String(), nil
}

// Dial opens one stream: the WebSocket upgrade with the Authorization
// header, compression off, bounded by the handshake timeout and by ctx.
// Safe for concurrent use.
//
// ctx bounds the dial only; cancelling it after Dial returned does not
// affect the stream. Errors:
//   - ctx done: an error wrapping ctx.Err() (and its cause), so that
//     stages.Classify gives ClassAborted after a cancellation;
//   - refused upgrade: *stages.UpstreamError with HTTPStatus, Code (the
//     body's err_code, else a code-like dg-error header), a short Reason
//     (err_msg, else dg-error, else the status text) and RetryAfter
//     (Retry-After in seconds or as an HTTP-date, capped at an hour);
//     400, 401, 402 and 403 are permanent, anything else retryable;
//   - handshake timeout or network failure: a retryable
//     *stages.UpstreamError with Err set;
//   - invalid sc: an error wrapping ErrInvalidStreamConfig (permanent).
func (p *Provider) Dial(ctx context.Context, sc stages.StreamConfig) (stages.Stream, error) {
	u, err := p.ListenURL(sc)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxError("dial", err, context.Cause(ctx))
	}
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPClient:      p.client,
		HTTPHeader:      p.header,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, p.dialError(ctx, resp, err)
	}
	conn.SetReadLimit(p.limit)
	return newStream(conn, p.key), nil
}

// dialError maps a failed websocket.Dial onto the stages contract.
func (p *Provider) dialError(ctx context.Context, resp *http.Response, err error) error {
	return upstreamerr.DialError(ctx, "deepgram", resp, err, p.client.Timeout,
		func(resp *http.Response) error { return refusedError(resp, p.key) })
}
