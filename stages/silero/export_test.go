package silero

import "math"

// Parse exposes parse (no hash check) to the black-box tests and FuzzLoad.
var Parse = parse

// STFTError computes the STFT magnitudes of one frame of x (nfft samples)
// at rateHz both ways, by the FFT Streams use and by the model's own
// convolution basis read from data, and returns the largest absolute
// difference and the largest magnitude.
func STFTError(data []byte, rateHz int, x []float32) (maxDiff, maxMag float64, err error) {
	then, els, err := readBranches(data)
	if err != nil {
		return 0, 0, err
	}
	m, err := parse(data)
	if err != nil {
		return 0, 0, err
	}
	n, br := &m.n16, then
	if rateHz == 8000 {
		n, br = &m.n8, els
	}
	basis, err := br.tensors["stft.forward_basis_buffer"].floats(int64(2*n.bins), 1, int64(n.nfft))
	if err != nil {
		return 0, 0, err
	}
	re := make([]float32, n.nfft/2)
	im := make([]float32, n.nfft/2)
	mag := make([]float32, n.bins)
	n.fft.magnitudes(x, n.window, re, im, mag)
	for k := range n.bins {
		var r, i float64
		for j := range n.nfft {
			r += float64(basis[k*n.nfft+j]) * float64(x[j])
			i += float64(basis[(n.bins+k)*n.nfft+j]) * float64(x[j])
		}
		want := math.Hypot(r, i)
		maxDiff = max(maxDiff, math.Abs(want-float64(mag[k])))
		maxMag = max(maxMag, want)
	}
	return maxDiff, maxMag, nil
}

// Window returns the STFT window read from the model at rateHz.
func (m *Model) Window(rateHz int) []float32 {
	if rateHz == 8000 {
		return m.n8.window
	}
	return m.n16.window
}

// Expf exposes expf.
var Expf = expf

// Kernels lists the matVec kernels this build and machine can run.
func Kernels() []string {
	if haveAVX2 {
		return []string{"avx2", "go"}
	}
	return []string{"go"}
}

// UseKernel selects a kernel of Kernels until the returned func restores
// the default.
func UseKernel(name string) (restore func()) {
	old := useAVX2
	useAVX2 = haveAVX2 && name == "avx2"
	return func() { useAVX2 = old }
}

// Sigmoids runs the kernel's sigmoids on x in place.
func Sigmoids(x []float32, scale [4]float32) { sigmoids(x, &scale) }

// MatVec and MatMat expose the kernels that UseKernel selects.
var (
	MatVec = matVec
	MatMat = matMat
)

// Batch exposes the batched run of the network to the black-box tests
// and benchmarks.
type Batch struct{ b *batch }

// NewBatch returns a Batch for at most capacity chunks.
func NewBatch(capacity int) *Batch { return &Batch{b: newBatch(capacity)} }

// Run computes chunks[i] on streams[i] (all at one rate, each once) as one
// batch, into probs[i].
func (b *Batch) Run(streams []*Stream, chunks [][]float32, probs []float32) {
	for i, s := range streams {
		b.b.add(s, chunks[i])
	}
	b.b.run()
	copy(probs, b.b.probs)
	b.b.reset()
}

// SetRunHook makes bt call hook at the start of every batch run, with
// its number of chunks. Call it before the first chunk.
func SetRunHook(bt *Batcher, hook func(chunks int)) { bt.hook = hook }
