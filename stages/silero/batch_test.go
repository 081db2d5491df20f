package silero_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages/silero"
)

// fixture is a file of fixtures/vad with its audio cut into float chunks.
type fixture struct {
	golden
	chunks [][]float32
}

// loadFixtures reads every fixtures/vad file and its audio.
func loadFixtures(t *testing.T, m *silero.Model) []fixture {
	t.Helper()
	require := td.Require(t)
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "fixtures", "vad", "*.json"))
	require.CmpNoError(err)
	require.NotEmpty(files, "no fixtures/vad/*.json: run scripts/make-vad-golden.sh")
	var out []fixture
	for _, file := range files {
		raw, err := os.ReadFile(file)
		require.CmpNoError(err)
		var f fixture
		require.CmpNoError(json.Unmarshal(raw, &f.golden))
		pcm, rate, _ := readWAV(t, filepath.Join(root, "fixtures", "speech-synth", f.WAV))
		require.Cmp(rate, f.SampleRateHz)
		s, err := m.NewStream(rate)
		require.CmpNoError(err)
		size := s.ChunkSamples()
		for i := 0; (i+1)*2*size <= len(pcm); i++ {
			c := make([]float32, size)
			for j := range c {
				c[j] = float32(int16(uint16(pcm[2*(i*size+j)])|uint16(pcm[2*(i*size+j)+1])<<8)) / 32768
			}
			f.chunks = append(f.chunks, c)
		}
		out = append(out, f)
	}
	return out
}

// TestGoldenBatched: every fixture's stream run in batches with the other
// fixtures at its rate, chunk index by chunk index, gives ONNX Runtime's
// probabilities within 1e-4 with no decision flipped (and the bits of
// Stream.Process: TestBatchedEqualsProcess).
func TestGoldenBatched(t *testing.T) {
	m := model(t)
	fs := loadFixtures(t, m)
	for _, kernel := range silero.Kernels() {
		t.Run(kernel, func(t *testing.T) {
			defer silero.UseKernel(kernel)()
			streams := make([]*silero.Stream, len(fs))
			got := make([][]float32, len(fs))
			last := 0
			for i, f := range fs {
				streams[i], _ = m.NewStream(f.SampleRateHz)
				got[i] = make([]float32, len(f.chunks))
				last = max(last, len(f.chunks))
			}
			b := silero.NewBatch(len(fs))
			for k := range last {
				for _, rate := range []int{16000, 8000} {
					var ss []*silero.Stream
					var cs [][]float32
					var idx []int
					for i, f := range fs {
						if f.SampleRateHz == rate && k < len(f.chunks) {
							ss, cs, idx = append(ss, streams[i]), append(cs, f.chunks[k]), append(idx, i)
						}
					}
					ps := make([]float32, len(ss))
					b.Run(ss, cs, ps)
					for j, i := range idx {
						got[i][k] = ps[j]
					}
				}
			}
			for i, f := range fs {
				var maxDiff float64
				var flips []int
				for k, want := range f.Probabilities {
					maxDiff = max(maxDiff, math.Abs(float64(got[i][k])-want))
					if (float64(got[i][k]) > threshold) != (want > threshold) {
						flips = append(flips, k)
					}
				}
				td.Cmp(t, maxDiff, td.Lte(1e-4), "%s: max |Δp| against ONNX Runtime", f.WAV)
				td.CmpEmpty(t, flips, "%s: chunks whose decision flipped", f.WAV)
			}
		})
	}
}

// TestBatchedEqualsProcess: many streams at both rates, fed different
// audio (some with non-finite samples), run in random interleavings and
// batch sizes, give the bits Stream.Process gives each alone.
func TestBatchedEqualsProcess(t *testing.T) {
	m := model(t)
	fs := loadFixtures(t, m)
	for _, kernel := range silero.Kernels() {
		t.Run(kernel, func(t *testing.T) {
			defer silero.UseKernel(kernel)()
			r := rand.New(rand.NewPCG(9, 10))
			inputs := streamInputs(r, fs, 24, 30)
			want := make([][]float32, len(inputs))
			streams := make([]*silero.Stream, len(inputs))
			for i, in := range inputs {
				s, _ := m.NewStream(in.rate)
				want[i] = probs(s, in.chunks)
				streams[i], _ = m.NewStream(in.rate)
			}
			got := make([][]float32, len(inputs))
			b := silero.NewBatch(32)
			for {
				rate := []int{16000, 8000}[r.IntN(2)]
				var ready []int
				for i, in := range inputs {
					if in.rate == rate && len(got[i]) < len(in.chunks) {
						ready = append(ready, i)
					}
				}
				if len(ready) == 0 {
					if done(inputs, got) {
						break
					}
					continue
				}
				r.Shuffle(len(ready), func(i, j int) { ready[i], ready[j] = ready[j], ready[i] })
				ready = ready[:1+r.IntN(min(len(ready), 32))]
				ss := make([]*silero.Stream, len(ready))
				cs := make([][]float32, len(ready))
				for j, i := range ready {
					ss[j], cs[j] = streams[i], inputs[i].chunks[len(got[i])]
				}
				ps := make([]float32, len(ready))
				b.Run(ss, cs, ps)
				for j, i := range ready {
					got[i] = append(got[i], ps[j])
				}
			}
			for i := range inputs {
				td.Cmp(t, bits(got[i]), bits(want[i]), "stream %d (%s)", i, inputs[i].name)
			}
		})
	}
}

// input is one test stream's chunks.
type input struct {
	name   string
	rate   int
	chunks [][]float32
}

// streamInputs returns n streams of at most length chunks each, taken
// from the fixtures at varied offsets, every third with a non-finite
// sample somewhere.
func streamInputs(r *rand.Rand, fs []fixture, n, length int) []input {
	out := make([]input, n)
	for i := range out {
		f := fs[i%len(fs)]
		from := r.IntN(max(1, len(f.chunks)-length))
		cs := f.chunks[from:min(len(f.chunks), from+length)]
		in := input{name: f.WAV, rate: f.SampleRateHz, chunks: make([][]float32, len(cs))}
		for k, c := range cs {
			in.chunks[k] = append([]float32(nil), c...)
		}
		if i%3 == 2 {
			bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}[i%9/3]
			c := in.chunks[r.IntN(len(in.chunks))]
			c[r.IntN(len(c))] = bad
		}
		out[i] = in
	}
	return out
}

func done(inputs []input, got [][]float32) bool {
	for i, in := range inputs {
		if len(got[i]) < len(in.chunks) {
			return false
		}
	}
	return true
}

// TestBatchNonFinite: a NaN chunk in a batch makes only its stream's
// result NaN and resets only that stream.
func TestBatchNonFinite(t *testing.T) {
	m := model(t)
	in := chunks(6, 512)
	streams := make([]*silero.Stream, 4)
	for i := range streams {
		streams[i], _ = m.NewStream(16000)
	}
	ref, _ := m.NewStream(16000)
	want := probs(ref, in)
	b := silero.NewBatch(4)
	bad := make([]float32, 512)
	bad[7] = float32(math.NaN())
	for k := range in {
		cs := [][]float32{in[k], in[k], in[k], in[k]}
		if k == 3 {
			cs[1] = bad
		}
		ps := make([]float32, 4)
		b.Run(streams, cs, ps)
		for i, p := range ps {
			switch {
			case i == 1 && k == 3:
				td.CmpTrue(t, math.IsNaN(float64(p)), "chunk %d of stream %d", k, i)
			case i == 1 && k > 3: // reset at chunk 3: a fresh stream since
				fresh, _ := m.NewStream(16000)
				td.Cmp(t, p, probs(fresh, in[4:k+1])[k-4], "chunk %d of stream %d", k, i)
			default:
				td.Cmp(t, p, want[k], "chunk %d of stream %d", k, i)
			}
		}
	}
}

// TestBatchMisuse: the programming errors a batch refuses.
func TestBatchMisuse(t *testing.T) {
	m := model(t)
	s16, _ := m.NewStream(16000)
	s8, _ := m.NewStream(8000)
	c16, c8 := make([]float32, 512), make([]float32, 256)
	ps := make([]float32, 2)
	td.CmpPanic(t, func() { silero.NewBatch(2).Run([]*silero.Stream{s16, s8}, [][]float32{c16, c8}, ps) },
		"silero: batch mixes sample rates")
	td.CmpPanic(t, func() { silero.NewBatch(2).Run([]*silero.Stream{s16, s16}, [][]float32{c16, c16}, ps) },
		"silero: stream twice in one batch")
	s16b, _ := m.NewStream(16000)
	td.CmpPanic(t, func() { silero.NewBatch(1).Run([]*silero.Stream{s16, s16b}, [][]float32{c16, c16}, ps) },
		"silero: batch full")
	td.CmpPanic(t, func() { silero.NewBatch(1).Run([]*silero.Stream{s16}, [][]float32{c8}, ps) },
		"silero: batch chunk size")
}
