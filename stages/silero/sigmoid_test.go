package silero_test

import (
	"math"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages/silero"
)

// TestSigmoidsEveryKernel: each kernel's sigmoids agree with float64
// 1/(1+e^-sx) within 3e-7 over ±100 (saturated at both ends), keep NaN,
// apply the scale by index mod 4, and handle lengths that are not a
// multiple of the vector width.
func TestSigmoidsEveryKernel(t *testing.T) {
	for _, k := range silero.Kernels() {
		t.Run(k, func(t *testing.T) {
			defer silero.UseKernel(k)()
			scale := [4]float32{1, 1, 2, 1}
			for _, n := range []int{1, 7, 8, 13, 64, 4001} {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(-100 + 200*float64(i)/float64(max(n-1, 1)))
				}
				want := make([]float64, n)
				for i, v := range x {
					want[i] = 1 / (1 + math.Exp(-float64(scale[i%4])*float64(v)))
				}
				silero.Sigmoids(x, scale)
				worst := 0.0
				for i := range x {
					worst = max(worst, math.Abs(float64(x[i])-want[i]))
				}
				td.Cmp(t, worst, td.Lte(3e-7), "n=%d", n)
			}
			edge := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0,
				1e-30, -1e-30, 88, -88, 1, 2, 3, 4, 5, 6, 7, 8}
			silero.Sigmoids(edge, scale)
			td.CmpTrue(t, math.IsNaN(float64(edge[0])), "NaN stays NaN")
			td.Cmp(t, edge[1], float32(1))
			td.Cmp(t, edge[2], td.Between(float32(0), float32(1e-37)), "saturated (the argument is clamped at 87)")
			td.Cmp(t, edge[3], float32(0.5))
		})
	}
}
