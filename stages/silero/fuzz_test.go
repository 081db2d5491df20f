package silero_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/maxatome/go-testdeep/td"
	"google.golang.org/protobuf/encoding/protowire"

	"earshot/stages/silero"
)

// FuzzLoad feeds arbitrary bytes to the ONNX parser (Load minus the hash
// check): it must return a model or an error wrapping ErrBadModel, never
// panic or run away, and a model it returns must run. The seed corpus in
// testdata/fuzz/FuzzLoad holds small hand-built graphs of the model's
// shape (regenerate with EARSHOT_WRITE_FUZZ_SEEDS=1 go test -run
// TestFuzzSeeds); the real model's first 4 KB are added when present.
func FuzzLoad(f *testing.F) {
	if data, err := os.ReadFile(modelPathNoTB()); err == nil {
		f.Add(data[:min(len(data), 4<<10)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := silero.Parse(data)
		if err != nil {
			td.Cmp(t, err, td.ErrorIs(silero.ErrBadModel))
			return
		}
		for _, rate := range []int{16000, 8000} {
			s, err := m.NewStream(rate)
			td.Require(t).CmpNoError(err)
			s.Process(make([]float32, s.ChunkSamples()))
		}
	})
}

// TestFuzzSeeds checks that the committed seeds are what seeds() builds
// (or writes them, with EARSHOT_WRITE_FUZZ_SEEDS=1), and that the parser
// refuses each with ErrBadModel.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzLoad")
	write := os.Getenv("EARSHOT_WRITE_FUZZ_SEEDS") == "1"
	if write {
		td.Require(t).CmpNoError(os.MkdirAll(dir, 0o755))
	}
	for name, data := range seeds() {
		file := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
		path := filepath.Join(dir, name)
		if write {
			td.Require(t).CmpNoError(os.WriteFile(path, []byte(file), 0o644))
		}
		got, err := os.ReadFile(path)
		td.Require(t).CmpNoError(err, "missing seed: EARSHOT_WRITE_FUZZ_SEEDS=1 go test -run TestFuzzSeeds")
		td.Cmp(t, string(got), file, name)
		_, err = silero.Parse(data)
		td.Cmp(t, err, td.ErrorIs(silero.ErrBadModel), name)
	}
}

// seeds are small inputs that reach deep into the parser: graphs of the
// model's shape with tiny tensors, and damaged forms of them.
func seeds() map[string][]byte {
	tiny := tinyModel(1)
	noElse := model1(node("If", nil, []string{"out"}, graphAttr("then_branch", branchGraph("16k", 1))))
	return map[string][]byte{
		"tiny-model":  tiny,
		"truncated":   tiny[:len(tiny)*2/3],
		"no-else":     noElse,
		"no-if":       model1(node("Relu", []string{"x"}, []string{"y"})),
		"bad-wire":    protowire.AppendVarint(protowire.AppendTag(nil, 7, protowire.VarintType), 3),
		"long-length": protowire.AppendVarint(protowire.AppendTag(nil, 7, protowire.BytesType), 1<<40),
	}
}

// Protobuf builders for the ONNX messages (field numbers of onnx.proto3).

func bytesF(num protowire.Number, b []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), b)
}

func varintF(num protowire.Number, v int64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), uint64(v))
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// floatTensor is a TensorProto of float32 values, all v.
func floatTensor(name string, v float32, dims ...int64) []byte {
	n := int64(1)
	var b []byte
	for _, d := range dims {
		b = append(b, varintF(1, d)...)
		n *= d
	}
	raw := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return cat(b, varintF(2, 1), bytesF(8, []byte(name)), bytesF(9, raw))
}

func attrF(name string, parts ...[]byte) []byte {
	return bytesF(5, cat(append([][]byte{bytesF(1, []byte(name))}, parts...)...))
}

func intsAttr(name string, v ...int64) []byte {
	var packed []byte
	for _, x := range v {
		packed = protowire.AppendVarint(packed, uint64(x))
	}
	return attrF(name, bytesF(8, packed), varintF(20, 7))
}

func graphAttr(name string, g []byte) []byte { return attrF(name, bytesF(6, g), varintF(20, 5)) }

func node(op string, inputs, outputs []string, attrs ...[]byte) []byte {
	var b []byte
	for _, in := range inputs {
		b = append(b, bytesF(1, []byte(in))...)
	}
	for _, out := range outputs {
		b = append(b, bytesF(2, []byte(out))...)
	}
	b = append(b, bytesF(4, []byte(op))...)
	return bytesF(1, cat(append([][]byte{b}, attrs...)...))
}

func constant(out string, tensor []byte) []byte {
	return node("Constant", nil, []string{out}, attrF("value", bytesF(5, tensor), varintF(20, 4)))
}

// branchGraph is one branch of the If with every constant, Conv, Pad and
// (nested) LSTM node the parser looks for; its tensors are n wide instead
// of the real sizes, so that the parser refuses it on shapes.
func branchGraph(prefix string, n int64) []byte {
	var b []byte
	add := func(name string, dims ...int64) {
		b = append(b, constant(prefix+name, floatTensor(name, 0.5, dims...))...)
	}
	add("stft.forward_basis_buffer", 2*n+2, 1, 2*n)
	b = append(b, node("Pad", []string{"input", "pads"}, []string{"padded"}, attrF("mode", bytesF(4, []byte("reflect"))))...)
	b = append(b, node("Conv", []string{"padded", prefix + "stft.forward_basis_buffer"}, []string{"spec"},
		intsAttr("kernel_shape", 2*n), intsAttr("strides", n), intsAttr("pads", 0, 0))...)
	for i := range 4 {
		w := fmt.Sprintf("encoder.%d.reparam_conv.weight", i)
		add(w, n, n, 3)
		add(fmt.Sprintf("encoder.%d.reparam_conv.bias", i), n)
		b = append(b, node("Conv", []string{"x", prefix + w}, []string{"y"},
			intsAttr("kernel_shape", 3), intsAttr("strides", 1+int64(i%3+1)/2), intsAttr("pads", 1, 1))...)
	}
	add("decoder.rnn.weight_ih", 4*n, n)
	add("decoder.rnn.weight_hh", 4*n, n)
	add("decoder.rnn.bias_ih", 4*n)
	add("decoder.rnn.bias_hh", 4*n)
	lstm := node("LSTM", []string{"x", "w", "r", "b"}, []string{"h"}, attrF("hidden_size", varintF(3, 128), varintF(20, 2)))
	b = append(b, node("If", []string{"cond"}, []string{"h"}, graphAttr("then_branch", lstm), graphAttr("else_branch", lstm))...)
	add("decoder.decoder.2.weight", 1, n, 1)
	add("decoder.decoder.2.bias", 1)
	b = append(b, node("Conv", []string{"h", prefix + "decoder.decoder.2.weight"}, []string{"z"},
		intsAttr("kernel_shape", 1), intsAttr("strides", 1), intsAttr("pads", 0, 0))...)
	return b
}

// model1 is a ModelProto whose graph holds the given nodes.
func model1(nodes ...[]byte) []byte {
	return cat(varintF(1, 8), bytesF(7, cat(nodes...)))
}

// tinyModel is a model of the real graph's shape with tensors n wide.
func tinyModel(n int64) []byte {
	return model1(
		constant("sr16k", cat(varintF(2, 7), bytesF(9, binary.LittleEndian.AppendUint64(nil, 16000)))),
		node("Equal", []string{"sr", "sr16k"}, []string{"cond"}),
		node("If", []string{"cond"}, []string{"output", "stateN"},
			graphAttr("then_branch", branchGraph("T:", n)),
			graphAttr("else_branch", branchGraph("E:", n))),
	)
}
