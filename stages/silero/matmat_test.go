package silero_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages/silero"
)

// TestMatMatEveryKernel: for each kernel, matMat on n vectors (with gaps
// between them) gives, for every vector, the bits of matVec on it alone,
// and writes nothing between the results.
func TestMatMatEveryKernel(t *testing.T) {
	for _, k := range silero.Kernels() {
		t.Run(k, func(t *testing.T) {
			defer silero.UseKernel(k)()
			r := rand.New(rand.NewPCG(7, 8))
			for trial := range 60 {
				rows := 16 * (1 + r.IntN(32))
				cols := 4 * (1 + r.IntN(100))
				n := 1 + r.IntN(9)
				xStride := cols + 4*r.IntN(3)
				yStride := rows + r.IntN(5)
				w := randFloats(r, rows*cols)
				b := randFloats(r, rows)
				x := randFloats(r, (n-1)*xStride+cols)
				gap := float32(math.NaN())
				y := make([]float32, (n-1)*yStride+rows)
				for i := range y {
					y[i] = gap
				}
				silero.MatMat(w, b, x, y, n, xStride, yStride)
				want := make([]float32, rows)
				for j := range n {
					silero.MatVec(w, b, x[j*xStride:j*xStride+cols], want)
					got := y[j*yStride : j*yStride+rows]
					td.Cmp(t, bits(got), bits(want), "trial %d: %d×%d, vector %d of %d", trial, rows, cols, j, n)
					if j+1 < n {
						td.Cmp(t, bits(y[j*yStride+rows:(j+1)*yStride]), td.ArrayEach(math.Float32bits(gap)),
							"trial %d: gap after vector %d", trial, j)
					}
				}
			}
		})
	}
}

// TestMatMatSizes: sizes that do not fit panic; no vector is a no-op.
func TestMatMatSizes(t *testing.T) {
	w, b := make([]float32, 16*8), make([]float32, 16)
	x, y := make([]float32, 8*3), make([]float32, 16*3)
	td.CmpNotPanic(t, func() { silero.MatMat(w, b, x, y, 3, 8, 16) })
	td.CmpNotPanic(t, func() { silero.MatMat(w, b, nil, nil, 0, 8, 16) })
	for name, f := range map[string]func(){
		"short x":        func() { silero.MatMat(w, b, x[:8*3-1], y, 3, 8, 16) },
		"short y":        func() { silero.MatMat(w, b, x, y[:16*3-1], 3, 8, 16) },
		"x stride":       func() { silero.MatMat(w, b, x, y, 3, 4, 16) },
		"y stride":       func() { silero.MatMat(w, b, x, y, 3, 8, 8) },
		"rows not 16":    func() { silero.MatMat(w[:8*8], b[:8], x, y, 3, 8, 16) },
		"cols not 4":     func() { silero.MatMat(w[:16*6], b, x, y, 3, 8, 16) },
		"w not rows×col": func() { silero.MatMat(w[:16*8-1], b, x, y, 3, 8, 16) },
	} {
		td.CmpPanic(t, f, "silero: matMat sizes", name)
	}
}

func randFloats(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// bits returns the bit patterns of v, so that NaNs compare equal.
func bits(v []float32) []uint32 {
	out := make([]uint32, len(v))
	for i, x := range v {
		out[i] = math.Float32bits(x)
	}
	return out
}
