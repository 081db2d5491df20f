package silero

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
)

// ModelSHA256 is the SHA-256 of silero_vad_v6.onnx as shipped in the npm
// package @ricky0123/vad-web 0.0.31 (byte-identical to the silero-vad
// repository's src/silero_vad/data/silero_vad.onnx). scripts/fetch-silero.sh
// pins the same value.
const ModelSHA256 = "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3"

// ModelEnv names the environment variable that overrides DefaultModelPath,
// for both scripts/fetch-silero.sh and ModelPath.
const ModelEnv = "EARSHOT_VAD_MODEL"

// DefaultModelPath is where scripts/fetch-silero.sh puts the model,
// relative to the repository root.
const DefaultModelPath = ".cache/silero/silero_vad_v6.onnx"

// maxModelBytes bounds the file Load reads (the model has 2.3 MB).
const maxModelBytes = 64 << 20

// Network sizes shared by both sample rates.
const (
	frames   = 4   // STFT frames per chunk
	enc0     = 128 // channels out of the first encoder layer
	enc1     = 64  // ... of the second
	enc2     = 64  // ... of the third
	hidden   = 128 // LSTM size, also the channels out of the fourth layer
	gates    = 4 * hidden
	lstmIn   = 2 * hidden // LSTM input and hidden state side by side
	rowBlock = 8          // rows computed together by matVec
)

// Sizes of the 16 kHz network, the largest; Streams size their buffers
// with them.
const (
	maxChunk = 512
	maxCtx   = 64
	maxNFFT  = 256
	maxBins  = maxNFFT/2 + 1
	maxInput = maxCtx + maxChunk + maxCtx // context, chunk, reflection pad
	maxCols0 = (3*maxBins + 3) &^ 3       // first layer's im2col vector
)

// Model holds the weights of both networks (16 kHz and 8 kHz). It is
// immutable after Load: one Model serves any number of Streams, from any
// number of goroutines.
type Model struct {
	n16, n8 network
}

// network is one sample rate's network with its weights laid out for the
// order in which Stream.run reads them.
type network struct {
	rateHz, chunk, ctx, pad int
	nfft, hop, bins         int

	fft fftPlan
	// window is the STFT window (periodic Hann), read from the basis.
	window []float32

	// w0 is the first encoder layer in matVec layout over im2col vectors
	// of cols0 values ([bin][tap], zero-padded to a multiple of 4).
	w0    []float32
	b0    []float32
	cols0 int
	// w1 is the second in matVec layout over [channel][tap] vectors.
	w1 []float32
	b1 []float32
	// w2 is the third for its single output position, which sees input
	// positions 0 and 1 through taps 1 and 2: matVec layout over the
	// second layer's output, [position][channel].
	w2 []float32
	b2 []float32
	// w3 is the fourth for its single position: only tap 1 sees data.
	w3 []float32
	b3 []float32
	// lstm holds [W_ih | W_hh] in matVec layout with the rows reordered so
	// that each block of 8 holds the gates i, f, g, o of two units; lstmB
	// is b_ih + b_hh in that order.
	lstm  []float32
	lstmB []float32
	// dec is the final 1×1 convolution.
	dec  []float32
	decB float32
}

// ModelPath returns $EARSHOT_VAD_MODEL when set, DefaultModelPath
// otherwise.
func ModelPath() string {
	if p := os.Getenv(ModelEnv); p != "" {
		return p
	}
	return DefaultModelPath
}

// Load reads the model file at path, checks its SHA-256 against
// ModelSHA256 and extracts both networks. A missing file gives ErrNoModel
// (naming scripts/fetch-silero.sh), a different file ErrModelHash, a file
// that cannot be read as the expected network ErrBadModel.
func Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNoModel, path)
		}
		return nil, fmt.Errorf("%w: %w", ErrNoModel, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoModel, err)
	}
	if st.Size() > maxModelBytes {
		return nil, fmt.Errorf("%w: %s has %d bytes", ErrModelHash, path, st.Size())
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoModel, err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != ModelSHA256 {
		return nil, fmt.Errorf("%w: %s has %s, want %s (run scripts/fetch-silero.sh)", ErrModelHash, path, got, ModelSHA256)
	}
	return parse(data)
}

// parse extracts both networks from an ONNX file's bytes, without checking
// its hash. Every failure wraps ErrBadModel.
func parse(data []byte) (*Model, error) {
	then, els, err := readBranches(data)
	if err != nil {
		return nil, err
	}
	m := &Model{}
	if err := m.n16.build(then, 16000, 512, 64, 256); err != nil {
		return nil, err
	}
	if err := m.n8.build(els, 8000, 256, 32, 128); err != nil {
		return nil, err
	}
	return m, nil
}

// build fills n from a branch of the file, checking every shape and
// operator attribute that inference relies on.
func (n *network) build(br *branch, rateHz, chunk, ctx, nfft int) error {
	*n = network{
		rateHz: rateHz, chunk: chunk, ctx: ctx, pad: ctx,
		nfft: nfft, hop: nfft / 2, bins: nfft/2 + 1,
	}
	rate := fmt.Sprintf("%d Hz", rateHz)
	get := func(name string, shape ...int64) ([]float32, error) {
		t, ok := br.tensors[name]
		if !ok {
			return nil, badModel("%s network: no constant %q", rate, name)
		}
		v, err := t.floats(shape...)
		if err != nil {
			return nil, badModel("%s network: %v", rate, err)
		}
		return v, nil
	}
	conv := func(weight string, want convAttrs) error {
		c, ok := br.convs[weight]
		if !ok {
			return badModel("%s network: no Conv on %q", rate, weight)
		}
		if c != want {
			return badModel("%s network: Conv on %q has kernel %d, stride %d, pads %d,%d; want %d, %d, %d,%d",
				rate, weight, c.kernel, c.stride, c.padBegin, c.padEnd,
				want.kernel, want.stride, want.padBegin, want.padEnd)
		}
		return nil
	}
	if len(br.padModes) != 1 || br.padModes[0] != "reflect" {
		return badModel("%s network: Pad modes %q, want one reflect", rate, br.padModes)
	}
	if len(br.lstmHidden) == 0 {
		return badModel("%s network: no LSTM", rate)
	}
	for _, h := range br.lstmHidden {
		if h != hidden {
			return badModel("%s network: LSTM hidden size %d, want %d", rate, h, hidden)
		}
	}

	// STFT: a Conv by [2*bins][1][nfft] whose rows are window × cos, then
	// window × ±sin. An FFT computes the same with the window read here.
	const basisName = "stft.forward_basis_buffer"
	basis, err := get(basisName, int64(2*n.bins), 1, int64(nfft))
	if err != nil {
		return err
	}
	if err := conv(basisName, convAttrs{kernel: int64(nfft), stride: int64(n.hop)}); err != nil {
		return err
	}
	if n.window, err = checkBasis(basis, nfft); err != nil {
		return badModel("%s network: %v", rate, err)
	}
	n.fft = newFFTPlan(nfft)

	// Encoder: four Conv1d (kernel 3, pad 1) + ReLU.
	strides := [4]int64{1, 2, 2, 1}
	ins := [4]int{n.bins, enc0, enc1, enc2}
	outs := [4]int{enc0, enc1, enc2, hidden}
	var ws, bs [4][]float32
	for i := range 4 {
		name := fmt.Sprintf("encoder.%d.reparam_conv.", i)
		if ws[i], err = get(name+"weight", int64(outs[i]), int64(ins[i]), 3); err != nil {
			return err
		}
		if bs[i], err = get(name+"bias", int64(outs[i])); err != nil {
			return err
		}
		if err := conv(name+"weight", convAttrs{kernel: 3, stride: strides[i], padBegin: 1, padEnd: 1}); err != nil {
			return err
		}
	}
	n.b0, n.b1, n.b2, n.b3 = bs[0], bs[1], bs[2], bs[3]
	// First two layers: as matrices over im2col vectors [channel][tap]
	// (the file's own row layout), padded to a multiple of 4 columns.
	n.cols0 = (3*n.bins + 3) &^ 3
	n.w0 = blockRows(enc0, n.cols0, func(o, j int) float32 {
		if j >= 3*n.bins {
			return 0
		}
		return ws[0][o*3*n.bins+j]
	})
	n.w1 = blockRows(enc1, 3*enc0, func(o, j int) float32 {
		return ws[1][o*3*enc0+j]
	})
	// Third layer: 2 positions in, 1 out; position -1 is padding, so only
	// taps 1 and 2 (on positions 0 and 1) count. Input vector: the second
	// layer's output, [position][channel].
	n.w2 = blockRows(enc2, 2*enc1, func(o, j int) float32 {
		pos, c := j/enc1, j%enc1
		return ws[2][(o*enc1+c)*3+1+pos]
	})
	// Fourth layer: 1 position in and out; taps 0 and 2 see padding.
	n.w3 = blockRows(hidden, enc2, func(o, c int) float32 {
		return ws[3][(o*enc2+c)*3+1]
	})

	// LSTM cell, PyTorch layout: rows are gates i, f, g, o of 128 units.
	wIH, err := get("decoder.rnn.weight_ih", gates, hidden)
	if err != nil {
		return err
	}
	wHH, err := get("decoder.rnn.weight_hh", gates, hidden)
	if err != nil {
		return err
	}
	bIH, err := get("decoder.rnn.bias_ih", gates)
	if err != nil {
		return err
	}
	bHH, err := get("decoder.rnn.bias_hh", gates)
	if err != nil {
		return err
	}
	// Row r of the reordered matrix: unit 2*(r/8) + (r%8)/4, gate r%4.
	src := func(r int) int {
		unit := r/rowBlock*2 + r%rowBlock/4
		return r%4*hidden + unit
	}
	n.lstm = blockRows(gates, lstmIn, func(r, j int) float32 {
		if j < hidden {
			return wIH[src(r)*hidden+j]
		}
		return wHH[src(r)*hidden+j-hidden]
	})
	n.lstmB = make([]float32, gates)
	for r := range n.lstmB {
		n.lstmB[r] = bIH[src(r)] + bHH[src(r)]
	}

	// Decoder: ReLU, Conv1d(128, 1, kernel 1), sigmoid.
	const decName = "decoder.decoder.2.weight"
	if n.dec, err = get(decName, 1, hidden, 1); err != nil {
		return err
	}
	if err := conv(decName, convAttrs{kernel: 1, stride: 1}); err != nil {
		return err
	}
	decB, err := get("decoder.decoder.2.bias", 1)
	if err != nil {
		return err
	}
	n.decB = decB[0]
	return nil
}

// blockRows lays out a rows × cols matrix (rows a multiple of rowBlock)
// for matVec: blocks of rowBlock rows, column by column.
func blockRows(rows, cols int, at func(r, c int) float32) []float32 {
	w := make([]float32, rows*cols)
	for r := range rows {
		for c := range cols {
			w[(r/rowBlock*cols+c)*rowBlock+r%rowBlock] = at(r, c)
		}
	}
	return w
}

// basisTolerance is how far (absolute) a basis value may be from
// window × cos/sin; the file's values are float32 roundings, within 1e-7.
const basisTolerance = 1e-5

// checkBasis verifies that the STFT basis [2*bins][nfft] is a window times
// the DFT (real rows window·cos, imaginary rows window·sin of either sign)
// and returns that window, read from the DC row.
func checkBasis(basis []float32, nfft int) ([]float32, error) {
	bins := nfft/2 + 1
	window := append([]float32(nil), basis[:nfft]...)
	// The imaginary rows may hold +sin or -sin (the magnitude is the same):
	// take the sign they correlate with.
	corr := 0.0
	for k := range bins {
		for i := range nfft {
			angle := 2 * math.Pi * float64(k*i%nfft) / float64(nfft)
			corr += float64(basis[(bins+k)*nfft+i]) * float64(window[i]) * math.Sin(angle)
		}
	}
	sign := math.Copysign(1, corr)
	for k := range bins {
		for i := range nfft {
			angle := 2 * math.Pi * float64(k*i%nfft) / float64(nfft)
			w := float64(window[i])
			if math.Abs(float64(basis[k*nfft+i])-w*math.Cos(angle)) > basisTolerance {
				return nil, fmt.Errorf("STFT basis row %d is not window × cos", k)
			}
			if math.Abs(float64(basis[(bins+k)*nfft+i])-sign*w*math.Sin(angle)) > basisTolerance {
				return nil, fmt.Errorf("STFT basis row %d is not window × sin", bins+k)
			}
		}
	}
	return window, nil
}
