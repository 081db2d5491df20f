// Package liblc3 binds liblc3, Google's implementation of the LC3 codec
// (Low Complexity Communication Codec, Bluetooth LE Audio; Apache-2.0),
// through cgo: a mono Encoder and a mono Decoder of 16-bit PCM.
//
// # Building
//
// The codec is compiled only with the build tag libcodecs, and cgo. Without
// either the package still builds: Available is false and NewEncoder and
// NewDecoder return an error wrapping ErrUnavailable, so a plain
// `go build ./...` needs no C toolchain. The tagged build needs Debian's
// packages
//
//	apt-get install -y --no-install-recommends gcc libc6-dev liblc3-dev
//
// (scripts/setup-codecs.sh installs them). liblc3 is linked dynamically:
// Debian's liblc3-dev ships no static archive, only liblc3.so. A tagged
// binary therefore needs the runtime package (liblc3-0 on Debian 12) on
// the machine it runs on.
//
// # Units and buffers
//
// Sample rates are in Hz (8000, 16000, 24000, 32000 or 48000) and frame
// durations in µs (7500 or 10000). PCM is mono int16, one sample per
// element, FrameSamples of it per frame (80 at 8 kHz and 10 ms, 480 at
// 48 kHz). A frame's coded size, 20 to 400 bytes, is chosen by the
// encoder's caller and decides the bitrate (30 bytes per 10 ms is 24
// kbit/s); LC3 carries no size in the frame, so the decoder's caller must
// know it from the transport. The caller owns every slice passed in; the
// codec reads or writes it during the call only.
//
// # Resources and concurrency
//
// An Encoder or a Decoder holds C memory (malloc'd, of the size liblc3
// asks for). Close frees it (Close is idempotent, and every method after
// it fails with ErrClosed); if one is dropped without Close, a runtime
// cleanup frees it once it is garbage collected. Neither is safe for
// concurrent use: give each stream its own. Encode and Decode make no Go
// allocation when they succeed.
package liblc3
