//go:build onnxruntime

package ortpeer

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"earshot/stages/silero"
)

// Geometry of the 16 kHz network.
const (
	rateHz = 16000
	chunk  = 512 // samples per chunk (32 ms)
	ctxLen = 64  // samples of the previous chunk in front of each one
)

// LibEnv names the environment variable that overrides the ONNX Runtime
// shared library's path.
const LibEnv = "ORT_LIB"

// benchWAV is the audio of the benchmark and of TestRatio, relative to the
// repository root.
const benchWAV = "fixtures/speech-synth/demo-16k.wav"

var rounds = flag.Int("ratio.rounds", 21, "TestRatio: timed passes over the fixture per engine")

// root is the repository root: go test runs in the package's directory.
var root = filepath.Join("..", "..")

// libPath is $ORT_LIB or the library of the onnxruntime-node package
// installed under scripts/silero-golden (linux only; elsewhere set ORT_LIB).
func libPath() string {
	if p := os.Getenv(LibEnv); p != "" {
		return p
	}
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	if runtime.GOOS != "linux" || arch == "" {
		return ""
	}
	return filepath.Join(root, "scripts", "silero-golden", "node_modules", "onnxruntime-node",
		"bin", "napi-v6", "linux", arch, "libonnxruntime.so.1")
}

// modelPath is $EARSHOT_VAD_MODEL or the repository's .cache copy.
func modelPath() string {
	if p := os.Getenv(silero.ModelEnv); p != "" {
		return p
	}
	return filepath.Join(root, silero.DefaultModelPath)
}

// initORT loads the library and creates ONNX Runtime's environment, once
// per process.
var initORT = sync.OnceValue(func() error {
	ort.SetSharedLibraryPath(libPath())
	return ort.InitializeEnvironment()
})

// peers is what every test and benchmark needs: the Go model, the model
// file for ONNX Runtime and the benchmark's chunks.
type peers struct {
	model     *silero.Model
	modelPath string
	chunks    [][]float32
}

// setup skips tb when the model or the library is missing and fails it when
// either is there but unusable.
func setup(tb testing.TB) *peers {
	tb.Helper()
	mp := modelPath()
	m, err := silero.Load(mp)
	if errors.Is(err, silero.ErrNoModel) {
		tb.Skipf("skipped: %v (or set %s)", err, silero.ModelEnv)
	}
	if err != nil {
		tb.Fatal(err)
	}
	lib := libPath()
	if lib == "" {
		tb.Skipf("skipped: no default ONNX Runtime library on %s/%s; set %s to libonnxruntime's path",
			runtime.GOOS, runtime.GOARCH, LibEnv)
	}
	if _, err := os.Stat(lib); err != nil {
		tb.Skipf("skipped: ONNX Runtime library missing: %v (install it with scripts/make-vad-golden.sh, "+
			"which runs npm ci in scripts/silero-golden, or set %s)", err, LibEnv)
	}
	if err := initORT(); err != nil {
		tb.Fatalf("ONNX Runtime from %s: %v", lib, err)
	}
	x, rate := readWAV(tb, filepath.Join(root, benchWAV))
	if rate != rateHz {
		tb.Fatalf("%s: %d Hz, want %d", benchWAV, rate, rateHz)
	}
	return &peers{model: m, modelPath: mp, chunks: chunks(x)}
}

// chunks cuts x into whole chunks (the tail is dropped, as golden.mjs does).
func chunks(x []float32) [][]float32 {
	out := make([][]float32, 0, len(x)/chunk)
	for off := 0; off+chunk <= len(x); off += chunk {
		out = append(out, x[off:off+chunk:off+chunk])
	}
	return out
}

// readWAV returns the samples (int16 / 32768, as golden.mjs and
// silero.Stream.ProcessPCM read them) and rate of a 16-bit mono PCM WAV.
func readWAV(tb testing.TB, path string) ([]float32, int) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		tb.Fatalf("%s: not a WAV file", path)
	}
	rate := 0
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		switch id {
		case "fmt ":
			if len(body) < 16 || binary.LittleEndian.Uint16(body) != 1 ||
				binary.LittleEndian.Uint16(body[2:]) != 1 || binary.LittleEndian.Uint16(body[14:]) != 16 {
				tb.Fatalf("%s: want 16-bit mono PCM", path)
			}
			rate = int(binary.LittleEndian.Uint32(body[4:]))
		case "data":
			if rate == 0 {
				tb.Fatalf("%s: data before fmt", path)
			}
			n := min(size, len(body)) / 2
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(int16(binary.LittleEndian.Uint16(body[2*i:]))) / 32768
			}
			return x, rate
		}
		off += 8 + size + size&1
	}
	tb.Fatalf("%s: no data chunk", path)
	return nil, 0
}

// ortStream is silero.Stream's counterpart on ONNX Runtime: one session
// over preallocated tensors. Each chunk goes in behind the previous chunk's
// last 64 samples (zeros at first), and stateN is copied back into state
// after each run, exactly as scripts/silero-golden/golden.mjs feeds the
// model.
type ortStream struct {
	sess           *ort.AdvancedSession
	input, state   *ort.Tensor[float32] // [1, 64+512], [2, 1, 128]
	output, stateN *ort.Tensor[float32] // [1, 1], [2, 1, 128]
	sr             *ort.Scalar[int64]
	in, st, stN    []float32 // the tensors' data
	out            []float32
}

func newORTStream(tb testing.TB, modelPath string) *ortStream {
	tb.Helper()
	o := &ortStream{}
	tb.Cleanup(o.destroy)
	var err error
	must := func(what string, err error) {
		tb.Helper()
		if err != nil {
			tb.Fatalf("ONNX Runtime: %s: %v", what, err)
		}
	}
	o.input, err = ort.NewEmptyTensor[float32](ort.NewShape(1, ctxLen+chunk))
	must("input tensor", err)
	o.state, err = ort.NewEmptyTensor[float32](ort.NewShape(2, 1, 128))
	must("state tensor", err)
	o.output, err = ort.NewEmptyTensor[float32](ort.NewShape(1, 1))
	must("output tensor", err)
	o.stateN, err = ort.NewEmptyTensor[float32](ort.NewShape(2, 1, 128))
	must("stateN tensor", err)
	o.sr, err = ort.NewScalar[int64](rateHz)
	must("sr scalar", err)
	o.in, o.st, o.stN, o.out = o.input.GetData(), o.state.GetData(), o.stateN.GetData(), o.output.GetData()

	opts, err := ort.NewSessionOptions()
	must("session options", err)
	defer opts.Destroy()
	must("intra-op threads", opts.SetIntraOpNumThreads(1))
	must("inter-op threads", opts.SetInterOpNumThreads(1))
	must("execution mode", opts.SetExecutionMode(ort.ExecutionModeSequential))
	must("optimization level", opts.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableAll))
	o.sess, err = ort.NewAdvancedSession(modelPath,
		[]string{"input", "state", "sr"}, []string{"output", "stateN"},
		[]ort.Value{o.input, o.state, o.sr}, []ort.Value{o.output, o.stateN}, opts)
	must("session", err)
	return o
}

// Process runs one chunk of 512 samples and returns the speech probability.
func (o *ortStream) Process(x []float32) float32 {
	copy(o.in[:ctxLen], o.in[chunk:]) // last chunk's tail becomes the context
	copy(o.in[ctxLen:], x)
	if err := o.sess.Run(); err != nil {
		panic(err)
	}
	copy(o.st, o.stN)
	return o.out[0]
}

// Reset returns to zero context and zero state.
func (o *ortStream) Reset() {
	clear(o.in)
	clear(o.st)
}

func (o *ortStream) destroy() {
	if o.sess != nil {
		o.sess.Destroy()
	}
	for _, t := range []*ort.Tensor[float32]{o.input, o.state, o.output, o.stateN} {
		if t != nil {
			t.Destroy()
		}
	}
	if o.sr != nil {
		o.sr.Destroy()
	}
}

// engine is what both implementations offer.
type engine interface {
	Process([]float32) float32
	Reset()
}

func (p *peers) engines(tb testing.TB) (goS, ortS engine) {
	tb.Helper()
	s, err := p.model.NewStream(rateHz)
	if err != nil {
		tb.Fatal(err)
	}
	return s, newORTStream(tb, p.modelPath)
}

// BenchmarkSilero16k times one 16 kHz chunk (512 samples, 32 ms of audio)
// through the Go model (go) and through ONNX Runtime on one thread (ort),
// over the same chunks with the state carried. After both it prints the
// ratio of their median times per chunk over the -count runs, and each
// one's range (on stdout, since a parent benchmark's log shows only with
// -v).
func BenchmarkSilero16k(b *testing.B) {
	p := setup(b)
	goS, ortS := p.engines(b)
	var ns [2][]float64 // time per chunk of every run
	for i, e := range []struct {
		name string
		s    engine
	}{{"go", goS}, {"ort", ortS}} {
		b.Run(e.name, func(b *testing.B) {
			e.s.Reset()
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				e.s.Process(p.chunks[n%len(p.chunks)])
				n++
			}
			ns[i] = append(ns[i], float64(b.Elapsed().Nanoseconds())/float64(b.N))
		})
	}
	if len(ns[0]) > 0 && len(ns[1]) > 0 {
		fmt.Printf("ratio ort/go of the medians: %.2f (go %s, ort %s ns/chunk; ONNX Runtime %s)\n",
			median(ns[1])/median(ns[0]), summary(ns[0]), summary(ns[1]), ort.GetVersion())
	}
}

// median is the middle value of x (the upper one of an even count).
func median(x []float64) float64 {
	return slices.Sorted(slices.Values(x))[len(x)/2]
}

// summary is x's median and, for more than one value, its range.
func summary(x []float64) string {
	if len(x) == 1 {
		return fmt.Sprintf("%.0f", x[0])
	}
	return fmt.Sprintf("%.0f [%.0f-%.0f over %d runs]", median(x), slices.Min(x), slices.Max(x), len(x))
}

// TestSameProbabilities checks that the benchmark compares the same work:
// on every 16 kHz fixture, chunk by chunk with the state carried, the Go
// model and ONNX Runtime agree within 1e-4, and ONNX Runtime driven from
// here agrees with the golden probabilities of fixtures/vad (onnxruntime-node,
// printed with 6 decimals) within 1e-5.
func TestSameProbabilities(t *testing.T) {
	p := setup(t)
	goS, ortS := p.engines(t)
	wavs, err := filepath.Glob(filepath.Join(root, "fixtures", "speech-synth", "*.wav"))
	if err != nil {
		t.Fatal(err)
	}
	tested := 0
	for _, path := range wavs {
		x, rate := readWAV(t, path)
		if rate != rateHz {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(path), ".wav")
		golden := readGolden(t, filepath.Join(root, "fixtures", "vad", name+".json"))
		goS.Reset()
		ortS.Reset()
		var maxDiff, maxGolden float64
		in := chunks(x)
		for i, c := range in {
			pg, po := goS.Process(c), ortS.Process(c)
			d := math.Abs(float64(pg - po))
			maxDiff = max(maxDiff, d)
			if d > 1e-4 {
				t.Errorf("%s chunk %d: go %.6f, ort %.6f (diff %.2g > 1e-4)", name, i, pg, po, d)
			}
			if golden != nil {
				dg := math.Abs(float64(po) - golden[i])
				maxGolden = max(maxGolden, dg)
				if dg > 1e-5 {
					t.Errorf("%s chunk %d: ort %.6f, golden %.6f (diff %.2g > 1e-5)", name, i, po, golden[i], dg)
				}
			}
		}
		if golden != nil && len(golden) != len(in) {
			t.Errorf("%s: %d chunks, golden has %d", name, len(in), len(golden))
		}
		t.Logf("%s: %d chunks, max |go-ort| %.2g, max |ort-golden| %.2g", name, len(in), maxDiff, maxGolden)
		tested++
	}
	if tested == 0 {
		t.Fatal("no 16 kHz fixture in fixtures/speech-synth")
	}
}

// readGolden returns the probabilities of a fixtures/vad file, nil when it
// is missing.
func readGolden(t *testing.T, path string) []float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Logf("%s missing: not compared with the golden probabilities", path)
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Probabilities []float64 `json:"probabilities"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return g.Probabilities
}

// TestRatio times whole passes over the benchmark's fixture (from zero
// state), alternating which engine goes first, after one warm-up pass each,
// and logs each engine's median and best time per chunk and the ratios.
// Run it with -v; -ratio.rounds sets the number of passes.
func TestRatio(t *testing.T) {
	p := setup(t)
	goS, ortS := p.engines(t)
	engines := [2]engine{goS, ortS}
	pass := func(s engine) float64 {
		s.Reset()
		start := time.Now()
		for _, c := range p.chunks {
			s.Process(c)
		}
		return float64(time.Since(start).Nanoseconds()) / float64(len(p.chunks))
	}
	pass(goS)
	pass(ortS)
	var times [2][]float64
	for r := range *rounds {
		for k := range 2 {
			i := (r + k) % 2
			times[i] = append(times[i], pass(engines[i]))
		}
	}
	var rows []string
	for i, name := range []string{"go", "ort"} {
		rows = append(rows, fmt.Sprintf("%-4s median %8.0f ns/chunk, best %8.0f, worst %8.0f",
			name, median(times[i]), slices.Min(times[i]), slices.Max(times[i])))
	}
	t.Logf("%d passes of %d chunks (%s) per engine, ONNX Runtime %s, GOMAXPROCS %d:\n%s\n"+
		"ort/go: %.2f (medians), %.2f (best)",
		*rounds, len(p.chunks), benchWAV, ort.GetVersion(), runtime.GOMAXPROCS(0),
		strings.Join(rows, "\n"),
		median(times[1])/median(times[0]), slices.Min(times[1])/slices.Min(times[0]))
}
