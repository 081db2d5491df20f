package record

import (
	"fmt"
	"log/slog"

	"github.com/VictoriaMetrics/metrics"

	"earshot/protocol/pusher"
)

// DefaultMaxFrameBytes is Config.MaxFrameBytes' default: 4 MiB, room for
// minutes of 48 kHz audio or thousands of segments in one frame.
const DefaultMaxFrameBytes = 4 << 20

// DefaultMaxGapSec is Config.MaxGapSec's default: four hours of silence
// padded into one conversation at most per audio frame.
const DefaultMaxGapSec = 14400

// Limits on the upgrade's query parameters.
const (
	// MaxUIDBytes bounds the uid query parameter.
	MaxUIDBytes = 128
	// MinSampleRate and MaxSampleRate bound sample_rate, in Hz.
	MinSampleRate = 8000
	MaxSampleRate = 48000
)

// Config configures a Recorder.
type Config struct {
	// Dir is the root of the recordings (required). New creates it and
	// its ".staging" subdirectory when missing (mode 0750; files are
	// 0640). Finished conversations are DIR/<conversation id>/, those in
	// progress DIR/.staging/<conversation id>/ (see the package doc). One
	// Recorder at a time may use a Dir: two processes on the same Dir
	// would corrupt each other's staging files.
	Dir string
	// MaxFrameBytes bounds one WebSocket message (the read limit); a
	// larger one makes the library close the connection with 1009.
	// Zero means DefaultMaxFrameBytes; it must otherwise be at least
	// pusher.HeaderBytes.
	MaxFrameBytes int
	// MaxGapSec bounds, in seconds of audio, the silence one audio frame
	// may open in a conversation: a frame that starts later than this
	// after the end of the audio written so far is dropped and counted
	// (reason "gap_too_large") instead of padded. Zero means
	// DefaultMaxGapSec; negative is an error.
	MaxGapSec int
}

// Deps are a Recorder's collaborators.
type Deps struct {
	// Logger receives structured logs; nil means slog.Default(). Audio,
	// segment text and uids are never logged (a uid appears only as the
	// first 8 hex digits of its SHA-256, "uid_hash").
	Logger *slog.Logger
	// Metrics is the set the Recorder registers its series in (once, in
	// New) and serves on /metrics; nil means a new set. Series are
	// registered with GetOrCreate, so Recorders sharing a set share
	// (and add up in) the series rather than panicking.
	Metrics *metrics.Set
}

// withDefaults validates cfg and fills in its defaults.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Dir == "" {
		return cfg, fmt.Errorf("%w: Dir is empty", ErrBadConfig)
	}
	switch {
	case cfg.MaxFrameBytes == 0:
		cfg.MaxFrameBytes = DefaultMaxFrameBytes
	case cfg.MaxFrameBytes < pusher.HeaderBytes:
		return cfg, fmt.Errorf("%w: MaxFrameBytes %d is below %d", ErrBadConfig, cfg.MaxFrameBytes, pusher.HeaderBytes)
	}
	switch {
	case cfg.MaxGapSec == 0:
		cfg.MaxGapSec = DefaultMaxGapSec
	case cfg.MaxGapSec < 0:
		return cfg, fmt.Errorf("%w: MaxGapSec is negative (%d)", ErrBadConfig, cfg.MaxGapSec)
	}
	return cfg, nil
}

func (d Deps) withDefaults() Deps {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Metrics == nil {
		d.Metrics = metrics.NewSet()
	}
	return d
}
