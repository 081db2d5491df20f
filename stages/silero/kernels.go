package silero

import "math"

// checkMatVec panics unless the matVec arguments fit: y an even number
// of blocks of rowBlock rows, x a multiple of 4 columns, w and b large
// enough. Every caller passes sizes fixed at Load, so this is a
// programming error.
func checkMatVec(w, b, x, y []float32) {
	if len(y)%(2*rowBlock) != 0 || len(x)%4 != 0 || len(x) == 0 ||
		len(w) < len(y)*len(x) || len(b) < len(y) {
		panic("silero: matVec sizes")
	}
}

// checkMatMat panics unless the matMat arguments fit (the rules of
// checkMatVec for every vector, strides at least a vector); it reports
// whether there is any vector to compute.
func checkMatMat(w, b, x, y []float32, n, xStride, yStride int) bool {
	if n <= 0 {
		return false
	}
	rows := len(b)
	if rows == 0 || rows%(2*rowBlock) != 0 || len(w)%rows != 0 {
		panic("silero: matMat sizes")
	}
	cols := len(w) / rows
	if cols == 0 || cols%4 != 0 || xStride < cols || yStride < rows ||
		len(x) < (n-1)*xStride+cols || len(y) < (n-1)*yStride+rows {
		panic("silero: matMat sizes")
	}
	return true
}

// matMatGo is matMat in pure Go: matVecGo on each vector.
func matMatGo(w, b, x, y []float32, n, xStride, yStride int) {
	rows, cols := len(b), len(w)/len(b)
	for j := range n {
		matVecGo(w, b, x[j*xStride:j*xStride+cols], y[j*yStride:j*yStride+rows])
	}
}

// matVecGo computes y = W·x + b for W laid out by blockRows, in pure Go:
// each block of 8 rows in two halves of 4, 4 columns per step, so that
// every accumulator gets one addition of four products per step.
func matVecGo(w, b, x, y []float32) {
	cols := len(x)
	for r := 0; r+rowBlock <= len(y); r += rowBlock {
		wr := w[r*cols : (r+rowBlock)*cols]
		for h := 0; h < rowBlock; h += 4 {
			a0, a1, a2, a3 := b[r+h], b[r+h+1], b[r+h+2], b[r+h+3]
			for c := 0; c+4 <= cols; c += 4 {
				q := (*[4 * rowBlock]float32)(wr[c*rowBlock:])
				v := (*[4]float32)(x[c:])
				v0, v1, v2, v3 := v[0], v[1], v[2], v[3]
				a0 += q[h+0]*v0 + q[h+8]*v1 + q[h+16]*v2 + q[h+24]*v3
				a1 += q[h+1]*v0 + q[h+9]*v1 + q[h+17]*v2 + q[h+25]*v3
				a2 += q[h+2]*v0 + q[h+10]*v1 + q[h+18]*v2 + q[h+26]*v3
				a3 += q[h+3]*v0 + q[h+11]*v1 + q[h+19]*v2 + q[h+27]*v3
			}
			y[r+h], y[r+h+1], y[r+h+2], y[r+h+3] = a0, a1, a2, a3
		}
	}
}

func relu(x []float32) {
	for i, v := range x {
		if v < 0 { // NaN stays NaN
			x[i] = 0
		}
	}
}

// gateScale and tanhScale are the scales sigmoids applies, by index mod 4:
// an LSTM gate block i, f, g, o takes tanh (2x) for g; tanhScale 2x for all.
var (
	gateScale = [4]float32{1, 1, 2, 1}
	tanhScale = [4]float32{2, 2, 2, 2}
)

// sigmoidsGo replaces each x[i] by sigmoid(scale[i%4]·x[i]): expf inlined
// in one loop of independent iterations, which the processor overlaps.
func sigmoidsGo(x []float32, scale *[4]float32) {
	const (
		log2e = 1.44269504088896341
		c1    = 0.693359375
		c2    = -2.12194440e-4
	)
	for i, v := range x {
		v = -scale[i&3] * v
		if v > 87 {
			v = 87
		} else if v < -87 {
			v = -87
		}
		n := float32(int32(v*log2e+0.5+128) - 128)
		r := v - n*c1 - n*c2
		z := r * r
		p := ((((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+
			4.1665795894e-2)*r+1.6666665459e-1)*r+5.0000001201e-1)*z + r) + 1
		x[i] = 1 / (1 + p*math.Float32frombits(uint32(int32(n)+127)<<23))
	}
}

// sigmoid is 1/(1+e^-x) in float32.
func sigmoid(x float32) float32 { return 1 / (1 + expf(-x)) }

// expf is e^x in float32, within about 2 ulp (Cephes' expf): x = n·ln2 + r
// with |r| <= ln2/2, a degree-7 polynomial for e^r, then 2^n from the
// exponent bits. Arguments beyond ±87 are clamped (enough for sigmoid and
// tanh, which saturate long before); NaN gives NaN.
func expf(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		c1    = 0.693359375
		c2    = -2.12194440e-4
	)
	if x > 87 {
		x = 87
	} else if x < -87 {
		x = -87
	}
	n := float32(int32(x*log2e+0.5+128) - 128) // floor(x·log2e + 0.5)
	r := x - n*c1 - n*c2
	z := r * r
	p := ((((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+
		4.1665795894e-2)*r+1.6666665459e-1)*r+5.0000001201e-1)*z + r) + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}
