// Package libopus binds libopus, the Opus reference codec (xiph.org,
// BSD-3), through cgo: a mono Encoder and a mono Decoder of 16-bit PCM.
//
// # Building
//
// The codec is compiled only with the build tag libcodecs, and cgo. Without
// either the package still builds: Available is false and NewEncoder and
// NewDecoder return an error wrapping ErrUnavailable, so a plain
// `go build ./...` needs no C toolchain. The tagged build needs Debian's
// packages
//
//	apt-get install -y --no-install-recommends gcc libc6-dev libopus-dev
//
// (scripts/setup-codecs.sh installs them). libopus is linked statically
// from Debian's libopus.a, so a tagged binary needs no libopus at run
// time. A binary that also links package libav gets libopus.so.0 loaded
// as a dependency of libavcodec; the two are the same release (Debian's
// 1.3.1), and ld resolves libavcodec's opus_* references to the copy
// linked into the executable.
//
// # Units and buffers
//
// Sample rates are in Hz: 8000, 12000, 16000, 24000 or 48000 (libopus's
// rates; any Opus packet decodes at any of them). PCM is mono int16,
// one sample per element; a frame is 2.5, 5, 10, 20, 40 or 60 ms of it
// (120 to 2880 samples at 48 kHz, 20 to 480 at 8 kHz). Packets are the
// raw Opus packets of RFC 6716 (a TOC byte then the frames), without any
// container. The caller owns every slice passed in; the codec reads or
// writes it during the call only and keeps no reference.
//
// # Resources and concurrency
//
// An Encoder or a Decoder holds C memory, allocated by libopus. Close
// frees it (Close is idempotent, and every method after it fails with
// ErrClosed); if one is dropped without Close, a runtime cleanup frees it
// once it is garbage collected. Neither is safe for concurrent use: give
// each stream its own. Encode and Decode make no Go allocation when they
// succeed.
package libopus
