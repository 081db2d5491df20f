//go:build !amd64 || purego

package silero

// No assembly kernel on this build.
const haveAVX2 = false

var useAVX2 = false

// matVec computes y = W·x + b for W laid out by blockRows (len(y) a
// multiple of 16, len(x) of 4).
func matVec(w, b, x, y []float32) {
	checkMatVec(w, b, x, y)
	matVecGo(w, b, x, y)
}

// matMat computes y_j = W·x_j + b for the n vectors x_j = x[j*xStride:]
// into y_j = y[j*yStride:], W laid out by blockRows with len(b) rows and
// len(w)/len(b) columns. Every y_j is bit-identical to matVec on x_j.
func matMat(w, b, x, y []float32, n, xStride, yStride int) {
	if checkMatMat(w, b, x, y, n, xStride, yStride) {
		matMatGo(w, b, x, y, n, xStride, yStride)
	}
}

// sigmoids replaces each x[i] by sigmoid(scale[i%4]·x[i]).
func sigmoids(x []float32, scale *[4]float32) { sigmoidsGo(x, scale) }
