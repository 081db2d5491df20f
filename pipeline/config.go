// Package pipeline owns a gateway's plumbing: the HTTP server and its
// routes, client authentication, limits, draining, and the graph of stages
// that serves each client session.
//
// The stage contracts live in package stages and each stage in a package
// of its own under it (ingest, gate, connector, fanout); this package wires
// them: it creates their channels, sizes them, starts every stage of a
// session under one errgroup and labels their goroutines. It maps the
// stages' neutral outcomes onto the client protocol (package protocol):
// service_status events and close codes.
package pipeline

import (
	"log/slog"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"earshot/internal/chunks"
	"earshot/internal/sysmem"
	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/fanout"
	"earshot/stages/gate"
	"earshot/stages/ingest"
	"earshot/stages/profile"
	"earshot/stages/pusher"
	"earshot/stages/retry"
)

// Config is a gateway's configuration. Zero fields take the documented
// defaults.
type Config struct {
	// APIKeys are the client keys accepted in "Authorization: Bearer
	// <key>" (or in the first message on /v4/web/listen). Empty, with no
	// Deps.Tokens, means every client is refused.
	APIKeys []string
	// AuthTimeoutMs is how long a /v4/web/listen client has to send its
	// auth message before the session is closed with 1008 "Auth
	// timeout". Default 5000 (Omi's).
	AuthTimeoutMs int
	// AllowedOrigins are the Origin host patterns (path.Match syntax, as
	// coder/websocket's OriginPatterns, e.g. "app.example.com" or
	// "*.example.com") from which browsers may open sessions. Empty: same
	// origin only. Requests without an Origin header (apps, devices) are
	// not affected.
	AllowedOrigins []string
	// MaxChannels is the most channels a session may ask for (its
	// channels parameter); more is refused with 1008 before any dial.
	// Each channel costs its own decoder, gate, upstream socket and
	// replay ring. Default 2; at most pipeline.MaxChannels.
	MaxChannels int
	// ProfilesDir holds the users' speech profiles, <user id>.wav (any
	// rate and channel count; about 10 s of the user speaking alone). A
	// session whose user has one, that asks for it
	// (include_speech_profile, true by default) and has one channel, is a
	// speech-profile session: the profile is sent first into its main
	// upstream socket, whose speaker 0 is then the user, while live audio
	// goes to a temporary socket (package profile). The user id is the
	// signed token's subject, or the uid parameter with a static key
	// (unauthenticated). Empty: no profiles.
	ProfilesDir string
	// ProfilePrefixMs is the length the profile is cut or padded to with
	// silence. Default 15000.
	ProfilePrefixMs int
	// ProfileSwitch times the switch from the temporary socket to the
	// main one.
	ProfileSwitch profile.Config
	// TextLimitBytes is the largest client text message that is read as
	// a control message; a larger one is ignored and counted. Default
	// 16384.
	TextLimitBytes int
	// ReadLimitBytes is the largest client frame accepted; a larger one
	// closes the session with 1009. Default 65536.
	ReadLimitBytes int64
	// PingIntervalMs is how often the text frame "ping" is sent to the
	// client. Default 10000.
	PingIntervalMs int
	// InactivityTimeoutMs ends a session (close 1001) after this long
	// without any frame from the client. Default 90000.
	InactivityTimeoutMs int
	// MaxSessions caps the sessions the server runs at once; a new one
	// beyond it is closed with 1013 ("too many sessions") before any
	// upstream work. Default DefaultMaxConns() less 64 (room for
	// /healthz and /metrics among the connections), at least three
	// quarters of it; negative: no cap.
	MaxSessions int
	// MaxSessionsPerKey caps the sessions one client key (or one
	// signed-in user) runs at once,
	// refused the same way. Default 0: no cap beyond MaxSessions.
	MaxSessionsPerKey int
	// ReplayBudgetBytes bounds the memory of every session's replay ring
	// together (the audio held for replay while an upstream is down).
	// Each ring may hold at most its fair share, the budget divided
	// among the rings holding audio; at its share, or finding the budget
	// spent, a ring evicts its own oldest audio (counted as lost) rather
	// than grow, so every session keeps the same most recent stretch and
	// none takes the budget. A new session whose share would fall below
	// MinReplayShareBytes is refused with 1013 like one beyond
	// MaxSessions. Default DefaultReplayBudgetBytes(): a quarter of the
	// memory the process may use; negative: no budget.
	ReplayBudgetBytes int64
	// FailedHandshakesPerSec and FailedHandshakeBurst throttle refused
	// handshakes (bad or missing keys) per client address: after the
	// burst of refusals (at least 2), an address is refused with 429
	// before any upgrade until the rate gives it another try. Defaults 1
	// per second and 10. (Behind a proxy every client shares the proxy's
	// address.)
	FailedHandshakesPerSec float64
	FailedHandshakeBurst   int
	// MaxPace is the most audio a session may send per second of wall
	// time, as a multiple of real time, averaged over PaceBurstMs of
	// audio: a session beyond it is closed with 1008 and the reason
	// (what it sent before is transcribed). Default 1.5; negative
	// disables (benchmarks and tests that stream faster than real time).
	MaxPace float64
	// PaceBurstMs is the audio a session may send at once beyond
	// MaxPace: an app's backlog after a reconnect. Default 30000.
	PaceBurstMs int
	// WriteTimeoutMs bounds one write to the client: a client that stops
	// reading fills its socket buffer and blocks the write; after this
	// long the connection is closed (recorded as close 1013, "client too
	// slow"), so that the inactivity and overflow rules always run and
	// the upstream stream ends. Default 10000.
	WriteTimeoutMs int
	// ChannelDepth is the capacity of the channels between stages, in
	// messages. Default 8 (0.8 s of 100 ms frames per hop): the connector
	// keeps taking audio into its replay ring while it reconnects, so the
	// channels only absorb scheduling jitter, and every slot is memory
	// held by every session.
	ChannelDepth int
	// ClientOutboxSize is how many messages may wait for a slow client
	// before the session is closed (1013). Default 256.
	ClientOutboxSize int
	// Languages lists the accepted values of the language parameter
	// ("auto" is always accepted and means "multi"). Default
	// DefaultLanguages.
	Languages []string
	// Connector configures every upstream connector.
	Connector connector.Config
	// Breaker configures the upstream's process-wide circuit breaker.
	Breaker retry.BreakerConfig
	// Budget configures the process-wide retry budget shared by every
	// session's retries and reconnects.
	Budget retry.BudgetConfig
	// Fanout configures segment building and flushing.
	Fanout fanout.Config
	// Prices are the providers' prices by Name, for the estimated cost
	// on /metrics (earshot_upstream_cost_usd_total{provider}); a provider
	// missing costs nothing.
	Prices map[string]connector.Price
	// IdleCloseMs are the providers' idle closes by Name
	// (connector.Link.IdleCloseMs): with the VAD gate holding the audio
	// back that long, a stream is closed, and reopened at the next
	// speech; a session dials such a provider only at its first speech.
	// A provider missing has none.
	IdleCloseMs map[string]int
	// Pusher configures the downstream pusher sink (spec/pusher.md);
	// with an empty Pusher.URL sessions have none.
	Pusher pusher.Config
	// OpusDecoder decodes the sessions' Opus audio: ingest.OpusPion (the
	// default, for ""), ingest.OpusLibopus (builds with -tags libcodecs)
	// or ingest.OpusAuto (libopus where the build has it). New fails
	// when the build lacks the one named.
	OpusDecoder ingest.OpusDecoder
	// Gate configures every session's VAD gate. Gate.Mode is the server's
	// default (zero: off); a session's vad_gate parameter overrides it
	// ("enabled": active, "disabled": off). Without Deps.NewDetector
	// every gate is off (New logs it once when the mode asks for one).
	// New fails when Gate does not pass Validate.
	Gate gate.Config
}

// Defaults of Config.
const (
	DefaultReadLimitBytes         = 64 << 10
	DefaultPingIntervalMs         = 10_000
	DefaultInactivityTimeoutMs    = 90_000
	DefaultWriteTimeoutMs         = 10_000
	DefaultMaxPace                = 1.5
	DefaultFailedHandshakesPerSec = 1.0
	DefaultFailedHandshakeBurst   = 10
	DefaultPaceBurstMs            = 30_000
	DefaultAuthTimeoutMs          = 5_000
	DefaultTextLimitBytes         = 16 << 10
	DefaultMaxChannels            = 2
	DefaultProfilePrefixMs        = 15_000
	DefaultChannelDepth           = 8
	DefaultClientOutboxSize       = 256
)

// DefaultLanguages are the languages accepted when Config.Languages is
// empty: those Deepgram's nova-3 model streams, plus "multi".
var DefaultLanguages = []string{
	"multi", "en", "en-US", "en-GB", "en-AU", "en-IN", "en-NZ",
	"bg", "ca", "cs", "da", "de", "de-CH", "el", "es", "es-419", "et",
	"fi", "fr", "fr-CA", "hi", "hu", "id", "it", "ja", "ko", "lt", "lv",
	"ms", "nl", "nl-BE", "no", "pl", "pt", "pt-BR", "pt-PT", "ro", "ru",
	"sk", "sv", "tr", "uk", "vi", "zh", "zh-CN", "zh-TW",
}

// MinReplayShareBytes is the least replay budget a session is admitted
// with: 64 KiB, 2 s of 16 kHz audio (0.7 s at 48 kHz).
const MinReplayShareBytes = 64 << 10

// DefaultReplayBudgetBytes is a quarter of the memory the process may
// use (the machine's, or its container's limit when smaller), or 1 GiB
// when that cannot be read.
func DefaultReplayBudgetBytes() int64 {
	if n, ok := sysmem.Limit(); ok {
		return n / 4
	}
	return 1 << 30
}

func (c Config) withDefaults() Config {
	def := stages.Default
	if c.ReadLimitBytes <= 0 {
		c.ReadLimitBytes = DefaultReadLimitBytes
	}
	def(&c.PingIntervalMs, DefaultPingIntervalMs)
	def(&c.InactivityTimeoutMs, DefaultInactivityTimeoutMs)
	def(&c.WriteTimeoutMs, DefaultWriteTimeoutMs)
	def(&c.PaceBurstMs, DefaultPaceBurstMs)
	def(&c.AuthTimeoutMs, DefaultAuthTimeoutMs)
	def(&c.TextLimitBytes, DefaultTextLimitBytes)
	def(&c.MaxChannels, DefaultMaxChannels)
	def(&c.ProfilePrefixMs, DefaultProfilePrefixMs)
	c.MaxChannels = min(c.MaxChannels, MaxChannels)
	switch {
	case c.MaxSessions == 0:
		n := DefaultMaxConns()
		c.MaxSessions = max(n-64, n*3/4)
	case c.MaxSessions < 0:
		c.MaxSessions = 0 // no cap
	}
	c.MaxSessionsPerKey = max(c.MaxSessionsPerKey, 0)
	switch {
	case c.ReplayBudgetBytes == 0:
		c.ReplayBudgetBytes = DefaultReplayBudgetBytes()
	case c.ReplayBudgetBytes < 0:
		c.ReplayBudgetBytes = 0 // none
	}
	def(&c.FailedHandshakeBurst, DefaultFailedHandshakeBurst)
	c.FailedHandshakeBurst = max(c.FailedHandshakeBurst, 2)
	if c.FailedHandshakesPerSec <= 0 {
		c.FailedHandshakesPerSec = DefaultFailedHandshakesPerSec
	}
	switch {
	case c.MaxPace == 0:
		c.MaxPace = DefaultMaxPace
	case c.MaxPace < 0:
		c.MaxPace = -1
	}
	def(&c.ChannelDepth, DefaultChannelDepth)
	def(&c.ClientOutboxSize, DefaultClientOutboxSize)
	if len(c.Languages) == 0 {
		c.Languages = DefaultLanguages
	}
	return c
}

// Deps are a gateway's runtime dependencies.
type Deps struct {
	// Provider dials the upstream speech-to-text service. Required.
	Provider stages.Provider
	// Fallbacks are the providers after Provider in the sessions' chain,
	// in order (--stt deepgram,soniox,local), with the languages each
	// serves (nil: any): a session starts on the first that its breaker
	// lets it dial and fails over mid-session
	// (connector.Config.FailoverAfterMs), with the replay ring. Each gets
	// a process-wide breaker of its own (a Link's Breaker is ignored).
	// Names must differ.
	Fallbacks []connector.Link
	// Tokens, if not nil, verifies signed bearer tokens (OIDC/JWT, e.g.
	// Firebase ID tokens) that are not one of Config.APIKeys. nil: only
	// the static keys are accepted.
	Tokens TokenVerifier
	// Metrics is the server's own set, exposed on /metrics. nil means a new
	// set. Never share one set between two servers.
	Metrics *metrics.Set
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// NewDetector makes each gated session's speech detector (Silero VAD
	// in production). nil means no detector: every session's gate is off
	// whatever Config.Gate.Mode and vad_gate say.
	NewDetector stages.DetectorFactory
	// Chunks stores every session's replay ring; nil means a new pool of
	// chunks.DefaultChunkBytes. The server sets its budget to
	// Config.ReplayBudgetBytes. Its use is exposed on /metrics.
	Chunks *chunks.Pool
	// OnSessionEnd, if not nil, is called once per session after every
	// goroutine of the session has returned (tests, benchmarks, audits).
	// It runs on the session's handler goroutine and must not block.
	OnSessionEnd func(SessionSummary)
}

// SessionSummary describes a session that ended.
type SessionSummary struct {
	// ID is the session's id, as in its log lines.
	ID string
	// Started is when the session started; Ended is when its last
	// goroutine returned.
	Started, Ended time.Time
	// Channels is the session's channel count; the seconds below are
	// summed over its channels.
	Channels int
	// CloseCode is the WebSocket close code the session ended with (the
	// server's, or the client's), 0 if none was exchanged.
	CloseCode int
	// CaptureSeconds is the audio the client sent, in seconds.
	CaptureSeconds float64
	// DecodeErrors counts the client's packets that could not be decoded
	// and were concealed (ingest.Stats).
	DecodeErrors int64
	// SentSeconds is the audio sent upstream (what a provider bills),
	// replays included; ReplayedSeconds the part sent again after a
	// reconnect; LostSeconds the audio that never reached a final
	// result and could not be replayed.
	SentSeconds, ReplayedSeconds, LostSeconds float64
	// SpeechSeconds is the audio in frames the gate's detector called
	// speech (0 with the gate off).
	SpeechSeconds float64
	// HeldSeconds is the silence the active gate held back (never sent);
	// in shadow mode, what it would have held.
	HeldSeconds float64
	// KeepAlives counts the KeepAlive messages sent upstream.
	KeepAlives int64
	// Gate is the mode the session's gate started in; GateFailedOpen
	// reports that its detector failed and it sent everything since.
	Gate           gate.Mode
	GateFailedOpen bool
}
