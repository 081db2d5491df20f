package silero_test

import (
	"testing"
	"unsafe"

	"earshot/stages/silero"
)

// BenchmarkProcess reports the time per chunk (512 samples at 16 kHz, 256
// at 8 kHz) and the bytes of one Stream, for each kernel (avx2: the Go
// assembly one, where the processor has AVX2 and FMA; go: pure Go).
func BenchmarkProcess(b *testing.B) {
	m := model(b)
	for _, bc := range []struct {
		name string
		rate int
	}{{"16k", 16000}, {"8k", 8000}} {
		for _, kernel := range silero.Kernels() {
			b.Run(bc.name+"/"+kernel, func(b *testing.B) {
				defer silero.UseKernel(kernel)()
				benchProcess(b, m, bc.rate)
			})
		}
	}
}

func benchProcess(b *testing.B, m *silero.Model, rate int) {
	s, err := m.NewStream(rate)
	if err != nil {
		b.Fatal(err)
	}
	in := chunks(16, s.ChunkSamples())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Process(in[i%len(in)])
		i++
	}
	b.ReportMetric(float64(unsafe.Sizeof(*s)), "B/stream")
}

func BenchmarkProcessPCM16k(b *testing.B) {
	m := model(b)
	s, err := m.NewStream(16000)
	if err != nil {
		b.Fatal(err)
	}
	pcm := make([]byte, 2*s.ChunkSamples())
	for i, x := range chunks(1, s.ChunkSamples())[0] {
		v := int16(x * 32767)
		pcm[2*i], pcm[2*i+1] = byte(v), byte(v>>8)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.ProcessPCM(pcm)
	}
}

func BenchmarkLoad(b *testing.B) {
	model(b)
	path := modelPath(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := silero.Load(path); err != nil {
			b.Fatal(err)
		}
	}
}
