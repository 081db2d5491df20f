// Package libav binds FFmpeg's libavcodec (Debian's build) through cgo,
// for what the gateway cannot decode in Go: AAC-LC (and HE-AAC, which the
// same decoder handles) carried in ADTS, decoded into mono 16-bit PCM by
// an AACDecoder.
//
// # Building
//
// The decoder is compiled only with the build tag libcodecs, and cgo.
// Without either the package still builds: Available is false and
// NewAACDecoder returns an error wrapping ErrUnavailable, so a plain
// `go build ./...` needs no C toolchain. The tagged build needs Debian's
// packages
//
//	apt-get install -y --no-install-recommends gcc libc6-dev libavcodec-dev
//
// (scripts/setup-codecs.sh installs them). libavcodec and libavutil are
// linked dynamically, by choice: Debian ships libavcodec.a, but it
// references about 50 libraries FFmpeg's codecs are built on (x264, dav1d,
// vpx, opus, X11, VA-API, ...; `pkg-config --static --libs libavcodec`),
// all of which a static link would have to name and pull in. A tagged
// binary therefore needs the runtime packages (libavcodec59 and
// libavutil57 on Debian 12) on the machine it runs on.
//
// # Decoding
//
// The decoder is FFmpeg's native "aac" decoder (float planar output), fed
// by FFmpeg's AAC parser, which finds the ADTS frames in bytes split
// anywhere. Output is mono int16 at the rate chosen at construction: the
// channels are averaged, float samples are scaled by 32768, rounded and
// clamped, and a stream at another rate is resampled by package
// internal/resample (a new filter whenever the stream's rate changes).
// The caller owns the bytes passed in and the slice appended to; the
// decoder keeps no reference to either.
//
// FFmpeg logs through one process-wide callback: the first NewAACDecoder
// installs one that drops every message but errors, which it returns in
// the text of the failures they explain, instead of writing them to
// stderr.
//
// # Resources and concurrency
//
// An AACDecoder holds C memory allocated by libavcodec. Close frees it
// (Close is idempotent, and Decode after it fails with ErrClosed); if one
// is dropped without Close, a runtime cleanup frees it once it is garbage
// collected. It is not safe for concurrent use: give each stream its own.
// In steady state (a stream at one rate, pcm with room to spare) Decode
// makes no Go allocation.
package libav
