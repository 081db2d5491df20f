package silero

import (
	"fmt"

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
