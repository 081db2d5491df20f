//go:build amd64 && !purego

package silero

import "golang.org/x/sys/cpu"

// haveAVX2 reports whether the processor and the OS support the AVX2+FMA
// kernel (Go assembly, no cgo); useAVX2 selects it (tests switch it off to
// check the pure Go kernel too). Build with -tags purego for the pure Go
// kernel everywhere.
var (
	haveAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	useAVX2  = haveAVX2
)

// blockMatVecAVX2 is matVec for blocks (even) 8-row blocks of cols columns (a
// multiple of 4), in matvec_amd64.s.
//
//go:noescape
func blockMatVecAVX2(w, b, x, y *float32, blocks, cols int)

// matVec computes y = W·x + b for W laid out by blockRows (len(y) a
// multiple of 16, len(x) of 4).
func matVec(w, b, x, y []float32) {
	checkMatVec(w, b, x, y)
	if useAVX2 {
		blockMatVecAVX2(&w[0], &b[0], &x[0], &y[0], len(y)/rowBlock, len(x))
		return
	}
	matVecGo(w, b, x, y)
}

// blockMatMatAVX2 is matMat for blocks (even) 8-row blocks of cols columns
// (a multiple of 4) on n vectors (positive), strides in floats, in
// matmat_amd64.s.
//
//go:noescape
func blockMatMatAVX2(w, b, x, y *float32, blocks, cols, n, xStride, yStride int)

// matMat computes y_j = W·x_j + b for the n vectors x_j = x[j*xStride:]
// into y_j = y[j*yStride:], W laid out by blockRows with len(b) rows and
// len(w)/len(b) columns. Every y_j is bit-identical to matVec on x_j.
func matMat(w, b, x, y []float32, n, xStride, yStride int) {
	if !checkMatMat(w, b, x, y, n, xStride, yStride) {
		return
	}
	if useAVX2 {
		blockMatMatAVX2(&w[0], &b[0], &x[0], &y[0], len(b)/rowBlock, len(w)/len(b), n, xStride, yStride)
		return
	}
	matMatGo(w, b, x, y, n, xStride, yStride)
}

// sigmoidsAVX2 is sigmoidsGo on n values (a multiple of 8), in
// sigmoid_amd64.s.
//
//go:noescape
func sigmoidsAVX2(x *float32, n int, scale *[4]float32)

// sigmoids replaces each x[i] by sigmoid(scale[i%4]·x[i]).
func sigmoids(x []float32, scale *[4]float32) {
	if n := len(x) &^ 7; useAVX2 && n > 0 {
		sigmoidsAVX2(&x[0], n, scale)
		x = x[n:] // n is a multiple of 4: the scale's phase is kept
	}
	sigmoidsGo(x, scale)
}
