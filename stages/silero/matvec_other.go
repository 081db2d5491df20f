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

// sigmoids replaces each x[i] by sigmoid(scale[i%4]·x[i]).
func sigmoids(x []float32, scale *[4]float32) { sigmoidsGo(x, scale) }
