// Package silero runs the Silero VAD v6 voice-activity model in pure Go
// (no cgo, no ONNX Runtime), for the gate that sends upstream only the
// audio that holds speech.
//
// The model file (silero_vad_v6.onnx, MIT) is not committed: it is fetched
// at setup by scripts/fetch-silero.sh into .cache/silero/ (or
// $EARSHOT_VAD_MODEL) and checked against ModelSHA256. Load reads the ONNX
// protobuf directly: the weights are Constant nodes inside an If node whose
// then-branch is the 16 kHz network and whose else-branch is the 8 kHz one.
//
// One Model (about 2.2 MB of weights) serves any number of Streams; a
// Stream (13.6 KB, all inline: no allocation per chunk) carries one audio
// stream's context and LSTM state:
//
//	m, err := silero.Load(silero.ModelPath())
//	s, err := m.NewStream(16000)
//	for each window of s.ChunkSamples() samples {
//		p := s.Process(window) // speech probability in [0, 1]
//	}
//
// The network, per chunk of 512 samples at 16 kHz (256 at 8 kHz) with the
// previous 64 (32) samples of context in front: reflection pad of 64 (32)
// on the right; an STFT of 4 frames (256-sample periodic Hann windows,
// hop 128; 128 and 64 at 8 kHz), done here with a real FFT instead of the
// model's convolution by the same basis; magnitudes (129 or 65 bins);
// four Conv1d+ReLU layers (kernel 3, strides 1, 2, 2, 1); one LSTM cell of
// 128; ReLU; a 1×1 convolution; sigmoid (the model's mean over time is
// over a single position). Results match ONNX Runtime within 1e-5 in
// probability (fixtures/vad holds its golden outputs, made by
// scripts/make-vad-golden.sh).
//
// Every layer after the STFT is a matrix-vector product over weights laid
// out at Load (the convolutions through im2col vectors, keeping only the
// taps that see data). On amd64 with AVX2 and FMA these run in a small Go
// assembly kernel (no cgo); elsewhere, or built with -tags purego, in pure
// Go, about four times slower.
package silero
