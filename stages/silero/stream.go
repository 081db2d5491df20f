package silero

import (
	"encoding/binary"
	"fmt"
)

// Stream runs the model over one audio stream, chunk after chunk, carrying
// the context samples and the LSTM state from one chunk to the next. It
// holds only that state (1.3 KB, inline); the scratch of a chunk belongs
// to whoever runs it: Process takes it from a free list shared by all
// Streams (no allocation per chunk in the steady state), a Batcher owns
// its own.
// A Stream is not safe for concurrent use; the Model behind it is.
type Stream struct {
	n *network

	// ctx holds the previous chunk's last n.ctx samples (zeros at first).
	ctx [maxCtx]float32
	h   [hidden]float32 // LSTM hidden state
	c   [hidden]float32 // LSTM cell state
}

// NewStream returns a Stream at sampleRateHz, 16000 or 8000 (ErrSampleRate
// otherwise), starting from silence: zero context and zero state.
func (m *Model) NewStream(sampleRateHz int) (*Stream, error) {
	s := &Stream{}
	switch sampleRateHz {
	case 16000:
		s.n = &m.n16
	case 8000:
		s.n = &m.n8
	default:
		return nil, fmt.Errorf("%w: got %d", ErrSampleRate, sampleRateHz)
	}
	return s, nil
}

// ChunkSamples is the number of samples Process takes: 512 at 16 kHz, 256
// at 8 kHz (32 ms).
func (s *Stream) ChunkSamples() int { return s.n.chunk }

// SampleRateHz is the Stream's sample rate.
func (s *Stream) SampleRateHz() int { return s.n.rateHz }

// Reset returns the Stream to its initial state (zero context and LSTM
// state), as at the start of a new utterance or stream.
func (s *Stream) Reset() {
	n := s.n
	*s = Stream{n: n}
}

// singles keeps the scratch of Process and ProcessPCM (batches of one)
// for reuse, up to singlesKept of them: a free list rather than a
// sync.Pool, which the garbage collector empties (and the race detector
// drops from at random), so that the steady state allocates nothing.
var singles = make(chan *batch, singlesKept)

const singlesKept = 32

// getSingle returns an empty batch of one, reused when one is free.
func getSingle() *batch {
	select {
	case b := <-singles:
		return b
	default:
		return newBatch(1)
	}
}

// putSingle gives back a batch of getSingle's, empty.
func putSingle(b *batch) {
	select {
	case singles <- b:
	default: // enough kept
	}
}

// Process runs one chunk of exactly ChunkSamples samples (values in
// [-1, 1], as int16 / 32768) and returns the probability that it holds
// speech, in [0, 1]. It panics on another length (a programming error).
// A non-finite sample makes the result NaN; the Stream then resets itself,
// so that later chunks are not poisoned. Process is a batch of one: its
// result is bit-identical to the same chunk's in any Batcher batch.
func (s *Stream) Process(chunk []float32) float32 {
	if len(chunk) != s.n.chunk {
		panic(fmt.Sprintf("silero: Process got %d samples, want %d", len(chunk), s.n.chunk))
	}
	b := getSingle()
	p := b.runOne(s, chunk)
	putSingle(b)
	return p
}

// ProcessPCM is Process on little-endian signed 16-bit PCM: pcm must hold
// exactly 2*ChunkSamples bytes (it panics otherwise).
func (s *Stream) ProcessPCM(pcm []byte) float32 {
	n := s.n
	if len(pcm) != 2*n.chunk {
		panic(fmt.Sprintf("silero: ProcessPCM got %d bytes, want %d", len(pcm), 2*n.chunk))
	}
	b := getSingle()
	in := b.pcm[:n.chunk]
	for i := range in {
		in[i] = float32(int16(binary.LittleEndian.Uint16(pcm[2*i:]))) * (1.0 / 32768)
	}
	p := b.runOne(s, in)
	putSingle(b)
	return p
}
