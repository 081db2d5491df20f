package silero

import "math"

// batch runs the network on one chunk of each of up to capacity Streams
// of one network (one sample rate), layer by layer: every layer after the
// STFT is a single matMat over the vectors of all the chunks, so that its
// weights stream from memory once per batch instead of once per chunk.
// Each chunk's result is bit-identical whatever the batch: matMat computes
// every vector exactly as matVec does, and nothing else mixes streams (a
// non-finite chunk makes only its own result NaN).
//
// A batch is the scratch of a run; it belongs to whoever runs it (the
// Batcher's worker, or Process through its free list) and is not safe for
// concurrent use. Usage: add each chunk, run, read probs, reset.
type batch struct {
	n       *network // the added Streams' network; nil while empty
	streams []*Stream
	chunks  [][]float32
	// probs[i] is the result of chunks[i] after run.
	probs []float32

	// Scratch of one chunk at a time: the STFT.
	in     [maxInput]float32 // context, chunk, reflection pad
	re, im [maxNFFT / 2]float32
	mag    [frames * maxBins]float32 // STFT magnitudes, [frame][bin]
	pcm    [maxChunk]float32         // ProcessPCM's chunk in floats

	// Scratch of the whole batch, chunk after chunk, sized for capacity
	// chunks of the largest network.
	//
	// col holds im2col vectors: layer 1's ([chunk][frame][bin·tap]), then
	// layer 2's ([chunk][position][channel·tap]), then the LSTM gates
	// ([chunk][gate]); each fits in the space of the one before.
	col []float32
	y0  []float32 // layer 1 out: [chunk][frame][channel]
	y1  []float32 // layer 2 out: [chunk][position][channel]
	y2  []float32 // layer 3 out: [chunk][channel]
	v   []float32 // LSTM in: [chunk][layer 4 out | h]
}

// newBatch returns an empty batch for at most capacity (positive) chunks.
func newBatch(capacity int) *batch {
	return &batch{
		streams: make([]*Stream, 0, capacity),
		chunks:  make([][]float32, 0, capacity),
		probs:   make([]float32, 0, capacity),
		col:     make([]float32, capacity*frames*maxCols0),
		y0:      make([]float32, capacity*frames*enc0),
		y1:      make([]float32, capacity*2*enc1),
		y2:      make([]float32, capacity*enc2),
		v:       make([]float32, capacity*lstmIn),
	}
}

// add puts s's next chunk (ChunkSamples samples, read in place by run:
// the caller keeps it unchanged until then) into the batch. It panics when
// the batch is full, when s runs on another network than the Streams
// already added, when s is already in the batch (its state would be read
// before its first chunk updated it) or when chunk has another length:
// programming errors.
func (b *batch) add(s *Stream, chunk []float32) {
	if b.n == nil {
		b.n = s.n
	}
	switch {
	case len(b.streams) == cap(b.streams):
		panic("silero: batch full")
	case s.n != b.n:
		panic("silero: batch mixes sample rates")
	case len(chunk) != s.n.chunk:
		panic("silero: batch chunk size")
	}
	for _, t := range b.streams {
		if t == s {
			panic("silero: stream twice in one batch")
		}
	}
	b.streams = append(b.streams, s)
	b.chunks = append(b.chunks, chunk)
	b.probs = append(b.probs, 0)
}

// reset empties the batch (dropping its references to Streams and chunks).
func (b *batch) reset() {
	clear(b.streams)
	clear(b.chunks)
	b.streams, b.chunks, b.probs, b.n = b.streams[:0], b.chunks[:0], b.probs[:0], nil
}

// runOne is the batch of one chunk: add, run, reset. b must be empty.
func (b *batch) runOne(s *Stream, chunk []float32) float32 {
	b.add(s, chunk)
	b.run()
	p := b.probs[0]
	b.reset()
	return p
}

// run computes every added chunk into probs and carries each Stream's
// context and LSTM state on; a Stream whose chunk gives a non-finite state
// gets NaN and is reset.
func (b *batch) run() {
	n, k := b.n, len(b.streams)
	if k == 0 {
		return
	}
	// STFT, then layer 1's im2col vectors (kernel 3, stride 1, pad 1:
	// 4 frames out), chunk by chunk.
	bins, cols0 := n.bins, n.cols0
	for i, s := range b.streams {
		b.stft(s, b.chunks[i])
		col := b.col[i*frames*cols0 : (i+1)*frames*cols0]
		for t := range frames {
			im2col(col[t*cols0:(t+1)*cols0], b.mag[:frames*bins], bins, t-1)
		}
	}
	y0 := b.y0[:k*frames*enc0]
	matMat(n.w0, n.b0, b.col, y0, k*frames, cols0, enc0)
	relu(y0)

	// Layer 2: stride 2, 2 positions out, seeing frames 2p-1 .. 2p+1.
	const cols1 = 3 * enc0
	for i := range k {
		frame := y0[i*frames*enc0 : (i+1)*frames*enc0]
		for p := range 2 {
			j := 2*i + p
			im2col(b.col[j*cols1:(j+1)*cols1], frame, enc0, 2*p-1)
		}
	}
	y1 := b.y1[:k*2*enc1]
	matMat(n.w1, n.b1, b.col, y1, 2*k, cols1, enc1)
	relu(y1)

	// Layers 3 and 4: one position each (their weights hold only the taps
	// that see data); each chunk's two positions of y1 are layer 3's
	// vector.
	y2 := b.y2[:k*enc2]
	matMat(n.w2, n.b2, y1, y2, k, 2*enc1, enc2)
	relu(y2)
	v := b.v[:k*lstmIn]
	matMat(n.w3, n.b3, y2, v, k, enc2, lstmIn)
	for i, s := range b.streams {
		x := v[i*lstmIn : (i+1)*lstmIn]
		relu(x[:hidden])
		copy(x[hidden:], s.h[:])
	}

	// LSTM cell. Gates come in blocks of 8: i, f, g, o of two units; all
	// go through a sigmoid, g as tanh(x) = 2·sigmoid(2x) - 1.
	g := b.col[:k*gates]
	matMat(n.lstm, n.lstmB, v, g, k, lstmIn, gates)
	sigmoids(g, &gateScale)
	for i, s := range b.streams {
		b.probs[i] = s.cell(g[i*gates : (i+1)*gates])
	}
}

// stft writes into b.mag the STFT magnitudes ([frame][bin]) of s's
// context followed by chunk, and keeps the chunk's last samples as s's
// next context.
func (b *batch) stft(s *Stream, chunk []float32) {
	n := s.n
	length := n.ctx + n.chunk
	in := b.in[:length+n.pad]
	copy(in, s.ctx[:n.ctx])
	copy(in[n.ctx:length], chunk)
	// Reflection pad on the right: in[length+k] = in[length-2-k].
	for k := range n.pad {
		in[length+k] = in[length-2-k]
	}
	for t := range frames {
		n.fft.magnitudes(in[t*n.hop:t*n.hop+n.nfft], n.window, b.re[:], b.im[:], b.mag[t*n.bins:(t+1)*n.bins])
	}
	copy(s.ctx[:n.ctx], in[n.chunk:length])
}

// cell ends the LSTM step of s on its gates g (after the sigmoids): it
// updates s's cell and hidden state and returns the decoder's probability;
// a non-finite cell state (only from non-finite input) resets s and gives
// NaN, so that it is not carried on.
func (s *Stream) cell(g []float32) float32 {
	g = g[:gates]
	c := s.c[:]
	finite := true
	for u := range hidden {
		q := g[u/2*rowBlock+u%2*4:]
		q = q[:4]
		cu := q[1]*c[u] + q[0]*(2*q[2]-1)
		c[u] = cu
		finite = finite && cu-cu == 0 // false for NaN and ±Inf
	}
	if !finite {
		s.Reset()
		return float32(math.NaN())
	}
	// h = o·tanh(c); the decoder: ReLU, then the 1×1 convolution.
	h := s.h[:]
	copy(h, c)
	sigmoids(h, &tanhScale)
	dec := s.n.dec[:hidden]
	sum := s.n.decB
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
