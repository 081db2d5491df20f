package silero_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
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

// batchSizes are the batch sizes the batch benchmarks run.
var batchSizes = []int{1, 4, 8, 16, 32}

// BenchmarkBatch reports the time per chunk of a batched run over size
// streams at 16 kHz (one op: one batch), for each kernel: the run itself,
// no goroutines. Batch 1 is what Process runs.
func BenchmarkBatch(b *testing.B) {
	m := model(b)
	for _, kernel := range silero.Kernels() {
		for _, size := range batchSizes {
			b.Run(fmt.Sprintf("%s/%d", kernel, size), func(b *testing.B) {
				defer silero.UseKernel(kernel)()
				run := batchRunner(b, m, size)
				b.ReportAllocs()
				for b.Loop() {
					run()
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(size), "µs/chunk")
				b.ReportMetric(float64(unsafe.Sizeof(silero.Stream{})), "B/stream")
			})
		}
	}
}

// BenchmarkBatchCold is BenchmarkBatch (AVX2 kernel where there is one)
// with the caches flushed before every batch, as in a busy gateway where
// the weights do not stay in cache from one chunk to the next: µs/chunk
// counts the run only. Process/cold is the unbatched Stream.Process.
func BenchmarkBatchCold(b *testing.B) {
	m := model(b)
	flush := make([]byte, 16<<20) // beyond L2, and much of a shared L3
	cold := func(b *testing.B, chunks int, run func()) {
		var busy time.Duration
		for b.Loop() {
			for i := 0; i < len(flush); i += 64 {
				flush[i]++
			}
			start := time.Now()
			run()
			busy += time.Since(start)
		}
		b.ReportMetric(float64(busy.Microseconds())/float64(b.N)/float64(chunks), "µs/chunk")
	}
	b.Run("Process", func(b *testing.B) {
		s, _ := m.NewStream(16000)
		in := chunks(16, s.ChunkSamples())
		i := 0
		cold(b, 1, func() { s.Process(in[i%len(in)]); i++ })
	})
	for _, size := range batchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			cold(b, size, batchRunner(b, m, size))
		})
	}
}

// batchRunner returns a func that runs one batch over size streams at
// 16 kHz, each fed its own sequence of chunks.
func batchRunner(b *testing.B, m *silero.Model, size int) func() {
	streams := make([]*silero.Stream, size)
	for i := range streams {
		streams[i], _ = m.NewStream(16000)
	}
	in := chunks(16+size, 512)
	batch := silero.NewBatch(size)
	cs := make([][]float32, size)
	ps := make([]float32, size)
	k := 0
	return func() {
		for i := range cs {
			cs[i] = in[(k+i)%len(in)]
		}
		batch.Run(streams, cs, ps)
		k++
	}
}

// BenchmarkBatcher reports the wall time per chunk (one op: one chunk) of
// a Batcher under N sessions' goroutines calling Speech back to back at
// 16 kHz, with MaxBatch min(N, 32) (batches fill without waiting for the
// bound), and the mean chunks per batch run. On 2 cores the worker takes
// one, the sessions' goroutines the other.
func BenchmarkBatcher(b *testing.B) {
	m := model(b)
	for _, streams := range []int{1, 8, 32, 128} {
		b.Run(fmt.Sprint(streams), func(b *testing.B) {
			bt := silero.NewBatcher(m, silero.BatchConfig{MaxBatch: min(streams, 32)}, silero.BatchDeps{})
			var runs, ran atomic.Int64
			silero.SetRunHook(bt, func(chunks int) { runs.Add(1); ran.Add(int64(chunks)) })
			newDet := bt.Detectors()
			in := chunks(16, 512)
			b.SetParallelism((streams + 1) / 2) // × GOMAXPROCS goroutines
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				d, err := newDet(16000)
				if err != nil {
					b.Error(err)
					return
				}
				i := 0
				for pb.Next() {
					if _, err := d.Speech(in[i%len(in)]); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
			bt.Close()
			b.ReportMetric(float64(ran.Load())/float64(max(runs.Load(), 1)), "chunks/run")
		})
	}
}
