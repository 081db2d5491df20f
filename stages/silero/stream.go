package silero

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Stream runs the model over one audio stream, chunk after chunk, carrying
// the context samples and the LSTM state from one chunk to the next. It
// holds all its buffers inline (no allocation per chunk). A Stream is not
// safe for concurrent use; the Model behind it is.
type Stream struct {
	n *network

	// input is context, chunk and reflection pad; its first ctx samples
	// are the previous chunk's last ones.
	input [maxInput]float32
	// v is the LSTM input: the encoder's output, then the hidden state h.
	v [lstmIn]float32
	c [hidden]float32 // LSTM cell state

	// Scratch, overwritten by every chunk.
	re, im [maxNFFT / 2]float32
	mag    [frames * maxBins]float32 // STFT magnitudes, [frame][bin]
	col    [maxCols0]float32         // im2col vector
	y0     [frames * enc0]float32    // first layer, [frame][channel]
	y1     [2 * enc1]float32         // second, [position][channel]
	y2     [enc2]float32
	g      [gates]float32
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

// Process runs one chunk of exactly ChunkSamples samples (values in
// [-1, 1], as int16 / 32768) and returns the probability that it holds
// speech, in [0, 1]. It panics on another length (a programming error).
// A non-finite sample makes the result NaN; the Stream then resets itself,
// so that later chunks are not poisoned.
func (s *Stream) Process(chunk []float32) float32 {
	n := s.n
	if len(chunk) != n.chunk {
		panic(fmt.Sprintf("silero: Process got %d samples, want %d", len(chunk), n.chunk))
	}
	copy(s.input[n.ctx:n.ctx+n.chunk], chunk)
	return s.run()
}

// ProcessPCM is Process on little-endian signed 16-bit PCM: pcm must hold
// exactly 2*ChunkSamples bytes (it panics otherwise).
func (s *Stream) ProcessPCM(pcm []byte) float32 {
	n := s.n
	if len(pcm) != 2*n.chunk {
		panic(fmt.Sprintf("silero: ProcessPCM got %d bytes, want %d", len(pcm), 2*n.chunk))
	}
	in := s.input[n.ctx : n.ctx+n.chunk]
	for i := range in {
		in[i] = float32(int16(binary.LittleEndian.Uint16(pcm[2*i:]))) * (1.0 / 32768)
	}
	return s.run()
}

// run computes the network on s.input[:ctx+chunk] and moves the context.
func (s *Stream) run() float32 {
	n := s.n
	length := n.ctx + n.chunk
	// Reflection pad on the right: input[length+k] = input[length-2-k].
	for k := range n.pad {
		s.input[length+k] = s.input[length-2-k]
	}
	// STFT magnitudes, [frame][bin].
	bins := n.bins
	for t := range frames {
		n.fft.magnitudes(s.input[t*n.hop:t*n.hop+n.nfft], n.window, s.re[:], s.im[:], s.mag[t*bins:(t+1)*bins])
	}
	// The next chunk's context: this one's last samples.
	copy(s.input[:n.ctx], s.input[n.chunk:length])

	// Encoder layer 1: kernel 3, stride 1, pad 1, 4 frames out.
	col := s.col[:n.cols0]
	for t := range frames {
		im2col(col, s.mag[:frames*bins], bins, t-1)
		y := s.y0[t*enc0 : (t+1)*enc0]
		matVec(n.w0, n.b0, col, y)
		relu(y)
	}
	// Layer 2: stride 2, 2 positions out, seeing frames 2p-1 .. 2p+1.
	col = s.col[:3*enc0]
	for p := range 2 {
		im2col(col, s.y0[:], enc0, 2*p-1)
		y := s.y1[p*enc1 : (p+1)*enc1]
		matVec(n.w1, n.b1, col, y)
		relu(y)
	}
	// Layers 3 and 4: one position each (their weights hold only the taps
	// that see data).
	matVec(n.w2, n.b2, s.y1[:], s.y2[:])
	relu(s.y2[:])
	x := s.v[:hidden]
	matVec(n.w3, n.b3, s.y2[:], x)
	relu(x)

	// LSTM cell. Gates come in blocks of 8: i, f, g, o of two units; all
	// go through a sigmoid, g as tanh(x) = 2·sigmoid(2x) - 1.
	matVec(n.lstm, n.lstmB, s.v[:], s.g[:])
	sigmoids(s.g[:], &gateScale)
	h := s.v[hidden:]
	g := s.g[:]
	c := s.c[:]
	finite := true
	for u := range hidden {
		q := g[u/2*rowBlock+u%2*4:]
		q = q[:4]
		cu := q[1]*c[u] + q[0]*(2*q[2]-1)
		c[u] = cu
		finite = finite && cu-cu == 0 // false for NaN and ±Inf
	}
	if !finite { // only from non-finite input: do not carry it on
		s.Reset()
		return float32(math.NaN())
	}
	// h = o·tanh(c); the decoder: ReLU, then the 1×1 convolution.
	copy(h, c)
	sigmoids(h, &tanhScale)
	dec := n.dec[:hidden]
	sum := n.decB
	for u := range hidden {
		q := g[u/2*rowBlock+u%2*4:]
		q = q[:4]
		hu := q[3] * (2*h[u] - 1)
		h[u] = hu
		sum += dec[u] * max(hu, 0)
	}
	return sigmoid(sum)
}

// im2col writes into col the [channel][tap] vector that a kernel-3
// convolution sees at input positions first .. first+2 of x, laid out
// [position][channel] with channels per position; positions outside x are
// zeros, and so is col beyond 3*channels.
func im2col(col, x []float32, channels, first int) {
	positions := len(x) / channels
	for k := range 3 {
		pos := first + k
		if pos < 0 || pos >= positions {
			for c := range channels {
				col[3*c+k] = 0
			}
			continue
		}
		xp := x[pos*channels : (pos+1)*channels]
		for c, v := range xp {
			col[3*c+k] = v
		}
	}
	clear(col[3*channels:])
}
