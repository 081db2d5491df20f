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
// Stream (1.3 KB, inline; the scratch of a chunk belongs to whoever runs
// it: no allocation per chunk) carries one audio stream's context and
// LSTM state:
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
// Every layer after the STFT is a matrix product over weights laid out at
// Load (the convolutions through im2col vectors, keeping only the taps
// that see data), done over a batch of chunks: a chunk's four STFT frames
// for the first layer, and with a Batcher the chunks of many Streams, so
// that the 880 KB of weights a chunk needs are read from memory once per
// batch. Each chunk's vectors are computed exactly as alone, so results do
// not depend on the batch, to the bit. On amd64 with AVX2 and FMA the
// products run in small Go assembly kernels (no cgo); elsewhere, or built
// with -tags purego, in pure Go, about five times slower.
//
// A server runs one Batcher for all its sessions: each session's detector
// (Batcher.Detectors) submits its window and waits; the worker runs a
// batch when it holds BatchConfig.MaxBatch windows or its first one has
// waited MaxWaitMs. Detectors is the unbatched alternative: every session
// runs its own Stream.
package silero
