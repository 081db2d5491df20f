package silero_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"unsafe"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages/silero"
)

// threshold is the gate's speech threshold: a chunk is speech above it.
const threshold = 0.65

// repoRoot is the directory holding go.mod above the working directory.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	td.Require(tb).CmpNoError(err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// modelPath is $EARSHOT_VAD_MODEL or the repository's .cache copy.
func modelPath(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv(silero.ModelEnv); p != "" {
		return p
	}
	return filepath.Join(repoRoot(tb), silero.DefaultModelPath)
}

var loadOnce = sync.OnceValues(func() (*silero.Model, error) {
	return silero.Load(modelPathNoTB())
})

// modelPathNoTB is modelPath for loadOnce, which has no testing.TB.
func modelPathNoTB() string {
	if p := os.Getenv(silero.ModelEnv); p != "" {
		return p
	}
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, silero.DefaultModelPath)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return silero.DefaultModelPath
		}
		dir = parent
	}
}

// model loads the model once, skipping the test when the file is missing.
func model(tb testing.TB) *silero.Model {
	tb.Helper()
	m, err := loadOnce()
	if errors.Is(err, silero.ErrNoModel) {
		tb.Skipf("skipped: %v", err)
	}
	td.Require(tb).CmpNoError(err)
	return m
}

// modelBytes reads the model file, skipping the test when it is missing.
func modelBytes(tb testing.TB) []byte {
	tb.Helper()
	model(tb)
	data, err := os.ReadFile(modelPath(tb))
	td.Require(tb).CmpNoError(err)
	return data
}

// readWAV returns the 16-bit PCM bytes and rate of a mono PCM WAV file.
func readWAV(tb testing.TB, path string) (pcm []byte, rateHz int, sum string) {
	tb.Helper()
	b, err := os.ReadFile(path)
	require := td.Require(tb)
	require.CmpNoError(err)
	h := sha256.Sum256(b)
	sum = hex.EncodeToString(h[:])
	require.Cmp(string(b[:4]), "RIFF")
	require.Cmp(string(b[8:12]), "WAVE")
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		switch id {
		case "fmt ":
			require.Cmp(binary.LittleEndian.Uint16(body[0:]), uint16(1), "PCM")
			require.Cmp(binary.LittleEndian.Uint16(body[2:]), uint16(1), "mono")
			require.Cmp(binary.LittleEndian.Uint16(body[14:]), uint16(16), "16-bit")
			rateHz = int(binary.LittleEndian.Uint32(body[4:]))
		case "data":
			require.NotZero(rateHz, "fmt before data")
			n := min(size, len(body)) &^ 1
			return body[:n], rateHz, sum
		}
		off += 8 + size + size&1
	}
	tb.Fatalf("%s: no data chunk", path)
	return nil, 0, ""
}

// golden is a file of fixtures/vad, written by scripts/make-vad-golden.sh.
type golden struct {
	WAV           string    `json:"wav"`
	WAVSHA256     string    `json:"wav_sha256"`
	ModelSHA256   string    `json:"model_sha256"`
	SampleRateHz  int       `json:"sample_rate_hz"`
	ChunkSamples  int       `json:"chunk_samples"`
	Probabilities []float64 `json:"probabilities"`
}

// TestGolden compares the Go model with ONNX Runtime's probabilities on
// every fixture, chunk by chunk with the state carried: within 1e-4, and
// no decision at the gate's threshold flipped.
func TestGolden(t *testing.T) {
	m := model(t)
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "fixtures", "vad", "*.json"))
	td.Require(t).CmpNoError(err)
	td.Require(t).NotEmpty(files, "no fixtures/vad/*.json: run scripts/make-vad-golden.sh")
	for _, kernel := range silero.Kernels() {
		t.Run(kernel, func(t *testing.T) {
			defer silero.UseKernel(kernel)()
			for _, file := range files {
				testGolden(t, m, root, file)
			}
		})
	}
}

func testGolden(t *testing.T, m *silero.Model, root, file string) {
	t.Helper()
	t.Run(filepath.Base(file), func(t *testing.T) {
		require := td.Require(t)
		raw, err := os.ReadFile(file)
		require.CmpNoError(err)
		var g golden
		require.CmpNoError(json.Unmarshal(raw, &g))
		require.Cmp(g.ModelSHA256, silero.ModelSHA256, "golden made with another model: rerun scripts/make-vad-golden.sh")
		pcm, rate, sum := readWAV(t, filepath.Join(root, "fixtures", "speech-synth", g.WAV))
		require.Cmp(sum, g.WAVSHA256, "fixture changed since the golden file was made: rerun scripts/make-vad-golden.sh")
		require.Cmp(rate, g.SampleRateHz)

		s, err := m.NewStream(rate)
		require.CmpNoError(err)
		require.Cmp(s.ChunkSamples(), g.ChunkSamples)
		step := 2 * s.ChunkSamples()
		require.Cmp(len(pcm)/step, len(g.Probabilities), "chunks")

		var maxDiff float64
		var flips []int
		for i, want := range g.Probabilities {
			got := float64(s.ProcessPCM(pcm[i*step : (i+1)*step]))
			maxDiff = max(maxDiff, math.Abs(got-want))
			if (got > threshold) != (want > threshold) {
				flips = append(flips, i)
			}
		}
		t.Logf("%s: %d chunks, max |Δp| %.2g", g.WAV, len(g.Probabilities), maxDiff)
		td.Cmp(t, maxDiff, td.Lte(1e-4), "max |Δp| against ONNX Runtime")
		td.CmpEmpty(t, flips, "chunks whose decision at %v flipped", threshold)
	})
}

// chunks returns n chunks of size samples of a noisy tone with a pause,
// reproducible.
func chunks(n, size int) [][]float32 {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, size)
		for j := range out[i] {
			x := 0.02 * float32(r.NormFloat64())
			if i%6 < 4 {
				x += 0.3 * float32(math.Sin(float64(i*size+j)*0.07)*math.Sin(float64(j)*0.003))
			}
			out[i][j] = x
		}
	}
	return out
}

func probs(s *silero.Stream, in [][]float32) []float32 {
	out := make([]float32, len(in))
	for i, c := range in {
		out[i] = s.Process(c)
	}
	return out
}

func TestNewStream(t *testing.T) {
	m := model(t)
	for rate, chunk := range map[int]int{16000: 512, 8000: 256} {
		s, err := m.NewStream(rate)
		td.Require(t).CmpNoError(err)
		td.Cmp(t, s.ChunkSamples(), chunk)
		td.Cmp(t, s.SampleRateHz(), rate)
	}
	for _, rate := range []int{0, -16000, 44100, 48000, 22050, 32000} {
		_, err := m.NewStream(rate)
		td.Cmp(t, err, td.ErrorIs(silero.ErrSampleRate), "rate %d", rate)
	}
}

// TestResetAndIndependence: Reset gives a fresh stream's results, and
// streams of one model do not share state (also under -race, concurrently).
func TestResetAndIndependence(t *testing.T) {
	m := model(t)
	for _, rate := range []int{16000, 8000} {
		s, err := m.NewStream(rate)
		td.Require(t).CmpNoError(err)
		in := chunks(20, s.ChunkSamples())
		want := probs(s, in)
		td.Cmp(t, want, td.ArrayEach(td.Between(float32(0), float32(1))))
		s.Reset()
		td.Cmp(t, probs(s, in), want, "after Reset")

		var wg sync.WaitGroup
		got := make([][]float32, 4)
		for i := range got {
			wg.Go(func() {
				s, _ := m.NewStream(rate)
				got[i] = probs(s, in)
			})
		}
		wg.Wait()
		td.Cmp(t, got, td.ArrayEach(want), "concurrent streams")
	}
}

// TestProcessPCM: the PCM and float entry points agree exactly.
func TestProcessPCM(t *testing.T) {
	m := model(t)
	a, _ := m.NewStream(16000)
	b, _ := m.NewStream(16000)
	r := rand.New(rand.NewPCG(3, 4))
	pcm := make([]byte, 2*a.ChunkSamples())
	x := make([]float32, a.ChunkSamples())
	for range 10 {
		for i := range x {
			v := int16(r.IntN(1 << 16))
			binary.LittleEndian.PutUint16(pcm[2*i:], uint16(v))
			x[i] = float32(v) / 32768
		}
		td.Cmp(t, a.ProcessPCM(pcm), b.Process(x))
	}
	td.CmpPanic(t, func() { a.Process(x[1:]) }, td.Contains("want 512"))
	td.CmpPanic(t, func() { a.ProcessPCM(pcm[2:]) }, td.Contains("want 1024"))
}

// TestNonFinite: a NaN sample gives NaN, then the stream starts afresh.
func TestNonFinite(t *testing.T) {
	m := model(t)
	s, _ := m.NewStream(16000)
	in := chunks(5, s.ChunkSamples())
	want := probs(s, in)
	s.Reset()
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		probs(s, in[:2])
		bad := make([]float32, s.ChunkSamples())
		bad[100] = float32(v)
		td.Cmp(t, math.IsNaN(float64(s.Process(bad))), true, "%v", v)
		td.Cmp(t, probs(s, in), want, "after %v", v)
	}
}

func TestNoAllocations(t *testing.T) {
	m := model(t)
	for _, rate := range []int{16000, 8000} {
		s, _ := m.NewStream(rate)
		in := chunks(1, s.ChunkSamples())[0]
		pcm := make([]byte, 2*s.ChunkSamples())
		td.Cmp(t, testing.AllocsPerRun(50, func() { s.Process(in) }), 0.0, "Process at %d Hz", rate)
		td.Cmp(t, testing.AllocsPerRun(50, func() { s.ProcessPCM(pcm) }), 0.0, "ProcessPCM at %d Hz", rate)
	}
}

func TestStreamSize(t *testing.T) {
	size := int(unsafe.Sizeof(silero.Stream{}))
	t.Logf("Stream: %d bytes, no other buffers", size)
	td.Cmp(t, size, td.Lte(40<<10))
}

// TestSTFT: the FFT gives the magnitudes of the model's own STFT
// convolution, whose basis Load checked to be a periodic Hann window times
// the DFT.
func TestSTFT(t *testing.T) {
	data := modelBytes(t)
	m := model(t)
	r := rand.New(rand.NewPCG(5, 6))
	for _, rate := range []int{16000, 8000} {
		nfft := 256 * rate / 16000
		win := m.Window(rate)
		td.Require(t).Len(win, nfft)
		for i, w := range win {
			hann := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(nfft))
			td.Cmp(t, float64(w), td.N(hann, 1e-6), "window[%d] at %d Hz", i, rate)
		}
		for range 20 {
			x := make([]float32, nfft)
			for i := range x {
				x[i] = float32(r.Float64()*2 - 1)
			}
			diff, peak, err := silero.STFTError(data, rate, x)
			td.Require(t).CmpNoError(err)
			td.Cmp(t, diff/peak, td.Lte(1e-5), "relative error at %d Hz", rate)
		}
	}
}

func TestExpf(t *testing.T) {
	var worst float64
	for x := -87.0; x <= 87; x += 0.001 {
		got := float64(silero.Expf(float32(x)))
		want := math.Exp(float64(float32(x)))
		worst = max(worst, math.Abs(got-want)/want)
	}
	t.Logf("expf: max relative error %.2g", worst)
	td.Cmp(t, worst, td.Lte(3e-7))
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "none.onnx")
	_, err := silero.Load(missing)
	td.Cmp(t, err, td.All(td.ErrorIs(silero.ErrNoModel), td.Smuggle(error.Error, td.Contains("scripts/fetch-silero.sh"))))

	other := filepath.Join(dir, "other.onnx")
	td.Require(t).CmpNoError(os.WriteFile(other, []byte("not a model"), 0o600))
	_, err = silero.Load(other)
	td.Cmp(t, err, td.All(td.ErrorIs(silero.ErrModelHash), td.ErrorIs(silero.ErrBadModel)))

	_, err = silero.Parse([]byte("not a model"))
	td.Cmp(t, err, td.ErrorIs(silero.ErrBadModel))
	_, err = silero.Parse(nil)
	td.Cmp(t, err, td.ErrorIs(silero.ErrBadModel))
}

// TestLoadDamaged: a truncated or altered copy of the real model fails
// the hash check, and the parser alone refuses it too.
func TestLoadDamaged(t *testing.T) {
	data := modelBytes(t)
	dir := t.TempDir()
	for name, bad := range map[string][]byte{
		"truncated": data[:len(data)/2],
		"cut short": data[:len(data)-3],
	} {
		path := filepath.Join(dir, "m.onnx")
		td.Require(t).CmpNoError(os.WriteFile(path, bad, 0o600))
		_, err := silero.Load(path)
		td.Cmp(t, err, td.ErrorIs(silero.ErrModelHash), name)
		_, err = silero.Parse(bad)
		td.Cmp(t, err, td.ErrorIs(silero.ErrBadModel), name)
	}
	// A weight changed in place: the hash check catches it.
	altered := append([]byte(nil), data...)
	altered[len(altered)/2] ^= 0x40
	path := filepath.Join(dir, "altered.onnx")
	td.Require(t).CmpNoError(os.WriteFile(path, altered, 0o600))
	_, err := silero.Load(path)
	td.Cmp(t, err, td.ErrorIs(silero.ErrModelHash))
}
