// Package ortpeer times earshot's pure-Go Silero VAD v6
// (earshot/stages/silero) against ONNX Runtime running the same model file,
// in one run, on the same chunks, one core each.
//
// ONNX Runtime is reached through github.com/yalue/onnxruntime_go, which
// needs cgo (CGO_ENABLED=1 and a C compiler) and loads the shared library
// at run time with dlopen. The library is the one shipped in the npm
// package onnxruntime-node (pinned in scripts/silero-golden/package.json
// and installed there by scripts/make-vad-golden.sh), the same build that
// made the golden probabilities of fixtures/vad; $ORT_LIB overrides its
// path (the default is the linux one; elsewhere set it). The model is
// .cache/silero/silero_vad_v6.onnx (scripts/fetch-silero.sh), or
// $EARSHOT_VAD_MODEL. A relative path in either variable is taken from
// bench/ortpeer, where go test runs.
//
// It is a nested module so that the binding stays out of earshot's go.mod;
// `go test ./...` at the repository root (and so CI) does not descend into
// it. Everything but this file sits behind the onnxruntime build tag, so
// without the tag the package has nothing to build or run. With it:
//
//	cd bench/ortpeer
//	go test -tags onnxruntime -run '^$' -bench . -benchmem -count 5 .
//	go test -tags onnxruntime -run 'TestSameProbabilities|TestRatio' -v -count 1 .
//
// BenchmarkSilero16k has two sub-benchmarks, go and ort, over the 512-sample
// chunks of fixtures/speech-synth/demo-16k.wav in order, with the context
// and LSTM state carried from chunk to chunk (and across the wrap from the
// last chunk to the first); ns/op is the time per chunk (32 ms of audio).
// ONNX Runtime runs with one intra-op and one inter-op thread, sequential
// execution and every graph optimization, on preallocated tensors (an
// AdvancedSession), so each call is one session Run plus copying the chunk
// in and the state out. B/op and allocs/op count the Go heap only:
// ONNX Runtime's own allocations inside Run are not seen. The benchmark prints
// the ratio of the two medians over the -count runs, and their ranges.
// The -count runs of go come before those of ort (the testing package
// repeats each sub-benchmark in turn), so on a shared machine the ratio
// also carries the load's drift; TestRatio interleaves the two.
//
// TestSameProbabilities checks that both compute the same thing: on every
// 16 kHz fixture, chunk by chunk, the two probabilities agree within 1e-4,
// and ONNX Runtime's agree with fixtures/vad's golden ones (made by
// onnxruntime-node) within 1e-5. TestRatio times whole passes over the
// fixture, alternating the two engines, and logs each one's median and best
// time per chunk and their ratio.
//
// When the model or the library is missing, the tests and benchmarks skip,
// saying which file and how to get it.
package ortpeer
