package silero

import (
	"errors"
	"fmt"
)

// Sentinel errors of package silero. Decide with errors.Is.
var (
	// ErrNoModel means the model file is not there (or cannot be read);
	// scripts/fetch-silero.sh fetches it.
	ErrNoModel = errors.New("silero model file missing (fetch it with scripts/fetch-silero.sh)")
	// ErrBadModel means the model file is not the Silero VAD v6 network
	// this package runs: corrupt, truncated, another model, or a graph
	// whose weights or operators do not have the expected shapes.
	ErrBadModel = errors.New("bad silero model")
	// ErrModelHash means the file's SHA-256 is not ModelSHA256. It wraps
	// ErrBadModel.
	ErrModelHash = fmt.Errorf("%w: wrong SHA-256", ErrBadModel)
	// ErrSampleRate means NewStream got a rate other than 8000 or 16000
	// Hz; resampling is the caller's job.
	ErrSampleRate = errors.New("silero runs at 8000 or 16000 Hz only")
	// ErrClosed means the Batcher was closed: its detectors fail at once.
	ErrClosed = errors.New("silero batcher closed")
	// ErrBatchPanic means the batch a chunk ran in panicked (recovered:
	// the Batcher goes on, every chunk of that batch gets the error).
	ErrBatchPanic = errors.New("silero batch panicked")
	// ErrWindow means a detector got a window of another size than its
	// WindowSamples.
	ErrWindow = errors.New("silero window size")
)

// badModel wraps ErrBadModel with a formatted detail.
func badModel(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadModel, fmt.Sprintf(format, args...))
}
