// Package sdkpeer runs the same upstream fault scenarios against
// earshot's gateway and against Deepgram's official Go SDK
// (github.com/deepgram/deepgram-go-sdk/v3, the live WebSocket client), in
// one run, and reports their write stalls, audio lost, words heard and
// reconnect times side by side.
//
// It is a nested module so that the SDK and its dependencies stay out of
// earshot's go.mod; `go test ./...` at the repository root (and so CI)
// does not descend into it. Run it with
//
//	cd bench/sdkpeer && go test -run TestPeer -v -count=1 -timeout 10m .
//
// See TestPeer for the flags and bench/README.md for what each number
// means and the latest results.
//
// # How the audio is accounted for
//
// The signal is 16 kHz mono PCM: tone bursts over silence, plus a quiet
// deterministic noise (peak 64, far under the emulator's loudness
// threshold) that makes every few milliseconds of the signal unique. Each
// emulator stream's recognizer is wrapped by a tap that keeps a copy of the
// audio the stream received and the words it produced, so that after the
// run each stream's audio is located in the signal byte for byte. That
// gives the audio lost (parts of the signal no stream received), the audio
// sent twice, and the true capture time of every word the emulator
// produced, whatever the client did with timestamps.
package sdkpeer
