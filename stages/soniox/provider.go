// Package soniox is the Soniox real-time provider: it implements
// stages.Provider and stages.Stream over Soniox's WebSocket protocol
// (spec/soniox.md) and nothing more. It never sleeps, retries, runs timers
// or starts goroutines; retry, backoff, KeepAlive timing and reconnects
// belong to the connector stage.
//
// Errors follow the stages contract: a refused upgrade, an error response
// or an abnormal end is a *stages.UpstreamError (stages.Classify tells
// permanent from retryable), a cancelled context yields an error matching
// context.Canceled (stages.ClassAborted). Upstream-provided text in errors
// is short, printable and never contains the API key.
//
// # Words
//
// Soniox sends sub-word tokens; Parser joins the final ones into
// stages.Words and ignores the non-final ones (the gateway runs on finals
// only). The last word of a response may continue in the next one, so it
// is held until a later final token, an <end> or <fin> marker, the
// "finished" response or the stream's normal end completes it. A Result
// carries the words a response completed, SpeechFinal when it ends at an
// <end> marker, FromFinalize when it ends at a <fin> marker (such a Result
// is returned even without words: it answers a Finalize).
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
// timeouts with a watchdog that calls Close. Keep Recv running for the
// life of a stream: it is what answers the server's ping and close frames.
package soniox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/coder/websocket"

	"earshot/internal/upstreamerr"
	"earshot/stages"
)

// Provider opens Soniox real-time streams. Build it with New. A Provider
// is immutable after New and safe for concurrent use by any number of
// sessions; it holds no per-stream state.
type Provider struct {
	endpoint    string
	model       string
	diarization bool
	endpoints   bool
	key         string // only to scrub it from upstream-provided text
	header      http.Header
	client      *http.Client
	limit       int64
}

var _ stages.Provider = (*Provider)(nil)

// New validates cfg, applies its defaults and returns a Provider. Every
// error wraps ErrInvalidConfig and never contains the API key.
func New(cfg Config) (*Provider, error) {
	endpoint, err := cfg.endpoint()
	if err != nil {
		return nil, fmt.Errorf("soniox: %w", err)
	}
	timeout, limit, err := cfg.limits()
	if err != nil {
		return nil, fmt.Errorf("soniox: %w", err)
	}
	switch {
	case cfg.APIKey == "":
		return nil, fmt.Errorf("soniox: api key required: %w", ErrInvalidConfig)
	case strings.ContainsFunc(cfg.APIKey, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return nil, fmt.Errorf("soniox: api key contains spaces or control characters: %w", ErrInvalidConfig)
	}
	model := cfg.Model
	if model == "" {
		model = DefaultModel
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
		endpoint:    endpoint,
		model:       model,
		diarization: orTrue(cfg.Diarization),
		endpoints:   orTrue(cfg.Endpoints),
		key:         cfg.APIKey,
		header:      http.Header{"Authorization": {"Bearer " + cfg.APIKey}},
		// Timeout bounds only the upgrade: websocket.Dial turns it into a
		// context deadline for the handshake request.
		client: &http.Client{Timeout: timeout, Transport: transport},
		limit:  limit,
	}, nil
}

// Name returns "soniox", the stt_provider reported to clients.
func (p *Provider) Name() string { return "soniox" }

// startMessage is the first message of a stream, in Soniox's field order.
type startMessage struct {
	Model         string   `json:"model"`
	AudioFormat   string   `json:"audio_format"`
	SampleRate    int      `json:"sample_rate"`
	NumChannels   int      `json:"num_channels"`
	LanguageHints []string `json:"language_hints,omitempty"`
	Diarization   bool     `json:"enable_speaker_diarization"`
	Endpoints     bool     `json:"enable_endpoint_detection"`
}

// StartMessage returns the JSON text Dial sends first for sc: model,
// audio_format "pcm_s16le", sample_rate, num_channels (0 channels means
// 1), language_hints (omitted for LanguageMulti and the empty language),
// enable_speaker_diarization and enable_endpoint_detection. It carries no
// key. An invalid sc gives an error wrapping ErrInvalidStreamConfig. Safe
// for concurrent use.
func (p *Provider) StartMessage(sc stages.StreamConfig) ([]byte, error) {
	if sc.SampleRateHz <= 0 {
		return nil, fmt.Errorf("soniox: sample rate %d hz: %w", sc.SampleRateHz, ErrInvalidStreamConfig)
	}
	channels := sc.Channels
	switch {
	case channels == 0:
		channels = 1
	case channels < 0:
		return nil, fmt.Errorf("soniox: %d channels: %w", sc.Channels, ErrInvalidStreamConfig)
	}
	hint, ok := languageHint(sc.Language)
	if !ok {
		return nil, fmt.Errorf("soniox: language %q: %w", sc.Language, ErrInvalidStreamConfig)
	}
	msg := startMessage{
		Model:       p.model,
		AudioFormat: "pcm_s16le",
		SampleRate:  sc.SampleRateHz,
		NumChannels: channels,
		Diarization: p.diarization,
		Endpoints:   p.endpoints,
	}
	if hint != "" {
		msg.LanguageHints = []string{hint}
	}
	return json.Marshal(msg)
}

// Dial opens one stream: the WebSocket upgrade with the Authorization
// header, compression off, then the start message; both bounded by the
// handshake timeout and by ctx. Safe for concurrent use.
//
// ctx bounds the dial only; cancelling it after Dial returned does not
// affect the stream. Errors:
//   - ctx done: an error wrapping ctx.Err() (and its cause), so that
//     stages.Classify gives ClassAborted after a cancellation;
//   - refused upgrade: *stages.UpstreamError with HTTPStatus, Code
//     ("SONIOX-<error_code>" when the body is a JSON error), a short
//     Reason (error_message, else the status text) and RetryAfter
//     (Retry-After in seconds or as an HTTP-date, capped at an hour);
//     400, 401, 402 and 403 are permanent, anything else retryable;
//   - handshake timeout, network failure or a failed start message: a
//     retryable *stages.UpstreamError with Err set;
//   - invalid sc: an error wrapping ErrInvalidStreamConfig (permanent).
func (p *Provider) Dial(ctx context.Context, sc stages.StreamConfig) (stages.Stream, error) {
	start, err := p.StartMessage(sc)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxError("dial", err, context.Cause(ctx))
	}
	conn, resp, err := websocket.Dial(ctx, p.endpoint, &websocket.DialOptions{
		HTTPClient:      p.client,
		HTTPHeader:      p.header,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, p.dialError(ctx, resp, err)
	}
	conn.SetReadLimit(p.limit)
	// The write's own deadline cannot outlive the call: once it returned,
	// the connection no longer watches wctx.
	wctx, cancel := context.WithTimeout(ctx, p.client.Timeout)
	err = conn.Write(wctx, websocket.MessageText, start)
	cancel()
	if err != nil {
		_ = conn.CloseNow()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxError("dial", ctxErr, context.Cause(ctx))
		}
		return nil, &stages.UpstreamError{Reason: "start message failed", Err: unexpectedEOF(err)}
	}
	return newStream(conn, p.key), nil
}

// dialError maps a failed websocket.Dial onto the stages contract.
func (p *Provider) dialError(ctx context.Context, resp *http.Response, err error) error {
	return upstreamerr.DialError(ctx, "soniox", resp, err, p.client.Timeout,
		func(resp *http.Response) error { return refusedError(resp, p.key) })
}

// Replay pace (stages.Paced): Soniox wants audio at near real-time pace
// and may disconnect prolonged bursts, so a replay after a reconnect or a
// failover goes at twice real time after a 2 s burst.
const (
	replayPaceFactor  = 2.0
	replayPaceBurstMs = 2000
)

var _ stages.Paced = (*Provider)(nil)

// ReplayPace is the most audio a stream takes per second when the
// connector replays, as a multiple of real time, beyond a burst in ms.
func (p *Provider) ReplayPace() (factor float64, burstMs int) {
	return replayPaceFactor, replayPaceBurstMs
}
