package pusher

import (
	"log/slog"

	"github.com/VictoriaMetrics/metrics"

	"earshot/stages"
	"earshot/stages/retry"
)

// Defaults of Config.
const (
	DefaultAudioBufferBytes   = 10 << 20 // Omi's 10 MB
	DefaultSegmentBatches     = 1000     // Omi's
	DefaultMaxPending         = 256
	DefaultFlushIntervalMs    = 1000
	DefaultHeartbeatMs        = 20000
	DefaultDialTimeoutMs      = 10000
	DefaultWriteTimeoutMs     = 10000
	DefaultDegradedCooldownMs = 60000
	DefaultLingerMs           = 10 * 60 * 1000
	DefaultIdleAudioMs        = 10000
	DefaultMaxFrameBytes      = 256 << 10
	DefaultResendMs           = 2000
	// Omi's pusher breaker: 20 failures in 30 s open it for 60 s.
	DefaultBreakerFailures = 20
	DefaultBreakerWindowMs = 30000
	DefaultBreakerOpenMs   = 60000
	// The per-session reconnects: 6 attempts (Omi's), from 1 s, capped
	// at 60 s.
	DefaultReconnectAttempts = 6
	DefaultReconnectBaseMs   = 1000
	DefaultReconnectCapMs    = 60000
)

// Config configures the pusher sink. Zero fields take the documented
// defaults.
type Config struct {
	// URL is the pusher's base address (ws://, wss://, http:// or
	// https://, with an optional path prefix); a session connects to
	// URL + /v1/trigger/listen?uid=...&sample_rate=....
	URL string
	// AudioBufferBytes caps a session's audio waiting for the pusher
	// (default 10 MiB); beyond it the oldest is dropped and counted.
	AudioBufferBytes int
	// SegmentBatches caps a session's segment messages waiting for the
	// pusher (default 1000); beyond it the oldest is dropped and counted.
	SegmentBatches int
	// MaxPending caps a session's unanswered processing requests
	// (default 256; a conversation lasts at least its timeout, 120 s, so
	// that is over 8 hours of them). Only past it is the oldest given up.
	MaxPending int
	// FlushIntervalMs is how often buffered audio and segments are sent
	// (default 1000).
	FlushIntervalMs int
	// HeartbeatMs is the heartbeat's period (default 20000).
	HeartbeatMs int
	// DialTimeoutMs bounds one dial, upgrade included (default 10000).
	DialTimeoutMs int
	// WriteTimeoutMs bounds one frame's write; a pusher that takes
	// longer is reconnected (default 10000).
	WriteTimeoutMs int
	// Reconnect shapes the RECONNECT_BACKOFF state (defaults: 6
	// attempts, 1 s base, 60 s cap, full jitter).
	Reconnect retry.BackoffConfig
	// DegradedCooldownMs is how long a session stays DEGRADED before its
	// one half-open probe (default 60000).
	DegradedCooldownMs int
	// Breaker is the process-wide breaker (defaults: 20 failures within
	// 30 s open it for 60 s, then one probe).
	Breaker retry.BreakerConfig
	// LingerMs is how long a session that ended keeps its connection
	// goroutine for what is still to deliver and its unanswered
	// processing requests (default 600000, 10 minutes); then they are
	// given up and counted.
	LingerMs int
	// IdleAudioMs: audio outside any conversation is kept this long
	// after it arrived (wall time), in case the next conversation's first
	// words, which the transcript reports late, began in it (default
	// 10000; a client sending faster than real time keeps more audio
	// that long, within AudioBufferBytes).
	IdleAudioMs int
	// MaxFrameBytes caps one audio frame's PCM (default 256 KiB).
	MaxFrameBytes int
	// ResendMs: the frames of audio, segments and conversation ids
	// written within this long before a connection was lost are written
	// again, first, on the next one: the protocol acknowledges none of
	// them, and what was in flight when a pusher went away is otherwise
	// lost. A receiver that places audio by its time and upserts
	// segments by id (earshot record does) stores them once. Default
	// 2000 (two flushes); negative: never (for a pusher that cannot take
	// a frame twice).
	ResendMs int
}

func (c Config) withDefaults() Config {
	stages.Default(&c.AudioBufferBytes, DefaultAudioBufferBytes)
	stages.Default(&c.SegmentBatches, DefaultSegmentBatches)
	stages.Default(&c.MaxPending, DefaultMaxPending)
	stages.Default(&c.FlushIntervalMs, DefaultFlushIntervalMs)
	stages.Default(&c.HeartbeatMs, DefaultHeartbeatMs)
	stages.Default(&c.DialTimeoutMs, DefaultDialTimeoutMs)
	stages.Default(&c.WriteTimeoutMs, DefaultWriteTimeoutMs)
	stages.Default(&c.DegradedCooldownMs, DefaultDegradedCooldownMs)
	stages.Default(&c.LingerMs, DefaultLingerMs)
	stages.Default(&c.IdleAudioMs, DefaultIdleAudioMs)
	stages.Default(&c.MaxFrameBytes, DefaultMaxFrameBytes)
	stages.DefaultOrOff(&c.ResendMs, DefaultResendMs)
	stages.Default(&c.Reconnect.Attempts, DefaultReconnectAttempts)
	stages.Default(&c.Reconnect.BaseMs, DefaultReconnectBaseMs)
	stages.Default(&c.Reconnect.CapMs, DefaultReconnectCapMs)
	stages.Default(&c.Breaker.FailureThreshold, DefaultBreakerFailures)
	stages.Default(&c.Breaker.WindowMs, DefaultBreakerWindowMs)
	stages.Default(&c.Breaker.OpenMs, DefaultBreakerOpenMs)
	stages.Default(&c.Breaker.FirstOpenMs, c.Breaker.OpenMs)
	return c
}

// Deps are the sink's runtime dependencies.
type Deps struct {
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Metrics is the server's set; nil means a new one.
	Metrics *metrics.Set
	// Rand returns uniform draws in [0, 1) for jitter; nil means
	// math/rand/v2.
	Rand func() float64
	// EncodeSegments renders segments as a JSON array in the client
	// protocol's shape (the pusher gets what the client gets). Required.
	EncodeSegments func([]stages.Segment) ([]byte, error)
}
