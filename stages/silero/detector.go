package silero

import (
	"fmt"
	"time"

	"earshot/stages"
)

// detector adapts a Stream to the gate's stages.SpeechDetector.
type detector struct{ s *Stream }

var _ stages.SpeechDetector = detector{}

// WindowSamples is the model's chunk: 512 samples at 16 kHz, 256 at 8 kHz.
func (d detector) WindowSamples() int { return d.s.ChunkSamples() }

// Speech runs one chunk. A non-finite probability (non-finite input) is
// passed on: the gate treats a probability outside [0, 1] as a detector
// failure and fails open.
func (d detector) Speech(window []float32) (float32, error) { return d.s.Process(window), nil }

// Detectors returns the gate's detector factory on m: one Stream per
// session, all sharing m's weights. Safe for concurrent use.
func Detectors(m *Model) stages.DetectorFactory {
	return func(sampleRateHz int) (stages.SpeechDetector, error) {
		s, err := m.NewStream(sampleRateHz)
		if err != nil {
			return nil, fmt.Errorf("silero detector: %w", err)
		}
		return detector{s: s}, nil
	}
}

// Detectors returns the gate's detector factory on the Batcher: each
// detector owns a Stream of the Batcher's model and submits its windows
// to the Batcher. Safe for concurrent use. After Close it fails with
// ErrClosed.
func (bt *Batcher) Detectors() stages.DetectorFactory {
	return func(sampleRateHz int) (stages.SpeechDetector, error) {
		if bt.closed() {
			return nil, fmt.Errorf("silero detector: %w", ErrClosed)
		}
		s, err := bt.model.NewStream(sampleRateHz)
		if err != nil {
			return nil, fmt.Errorf("silero detector: %w", err)
		}
		return &batchDetector{bt: bt, req: request{s: s, reply: make(chan answer, 1)}}, nil
	}
}

// batchDetector is a session's detector on a Batcher: its Stream and its
// request, reused for every window.
type batchDetector struct {
	bt  *Batcher
	req request
}

var _ stages.SpeechDetector = (*batchDetector)(nil)

// WindowSamples is the model's chunk: 512 samples at 16 kHz, 256 at 8 kHz.
func (d *batchDetector) WindowSamples() int { return d.req.s.ChunkSamples() }

// Speech submits window to the Batcher and waits for its probability: at
// most the Batcher's MaxWaitMs and the compute of its batch. The batch
// reads window in place, and Speech returns only once it is done with it.
// Once the Batcher is closed Speech fails at once with ErrClosed; a batch
// that panicked fails with ErrBatchPanic; a window of another size than
// WindowSamples with ErrWindow. A non-finite probability (non-finite
// input; the Stream resets itself) is passed on, as by Detectors.
// No allocation.
func (d *batchDetector) Speech(window []float32) (float32, error) {
	bt, r := d.bt, &d.req
	if len(window) != r.s.n.chunk {
		return 0, fmt.Errorf("%w: got %d samples, want %d", ErrWindow, len(window), r.s.n.chunk)
	}
	if bt.closed() {
		return 0, ErrClosed
	}
	r.window, r.queued = window, time.Now()
	defer func() { r.window = nil }()
	select {
	case bt.reqs <- r:
	case <-bt.done:
		return 0, ErrClosed
	}
	var a answer
	select {
	case a = <-r.reply:
	case <-bt.stopped:
		// The worker answered every chunk it took before it returned;
		// a chunk still queued is not taken any more.
		select {
		case a = <-r.reply:
		default:
			return 0, ErrClosed
		}
	}
	return a.p, a.err
}
