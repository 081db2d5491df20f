// Package local is the embedded local recognizer: a stages.Provider that
// transcribes speech on this machine with pocketsphinx (CMU Sphinx,
// 0.8+5prealpha, BSD-2) through cgo, with no account and no network
// (spec/local-engine.md). It recognises American English only, whatever
// the session's language.
//
// # Building
//
// The recognizer is compiled only with the build tag pocketsphinx (and
// cgo). Without it the package still builds: Available is false and New
// returns an error wrapping ErrUnavailable, so a plain `go build ./...`
// needs no C toolchain. The tagged build needs Debian's packages
//
//	apt-get install -y --no-install-recommends gcc libc6-dev \
//	    libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us
//
// The libraries are linked statically, so a tagged binary needs only the
// model package (pocketsphinx-en-us) at run time, and a primed model folder made by scripts/setup-pocketsphinx.sh (see
// Config.ModelDir): Debian's en-us acoustic model whose feat.params starts
// the live cepstral-mean normalisation from the mean of real speech rather
// than Debian's value, so that the first session on a fresh decoder is
// recognised about as well as later ones (word errors on the shared
// speech clips, one new decoder per clip: 33% with Debian's model folder,
// 22% primed; a warm decoder: 20%).
//
// # Decoders and streams
//
// New loads Config.PoolSize decoders up front. Dial takes a free one or,
// when all are busy, refuses at once with a retryable
// *stages.UpstreamError (HTTP 429, code CAPACITY) wrapping ErrCapacity,
// so that the connector backs off and the gateway can tell the client to
// come back later (WebSocket close 1013). Ending a stream returns its
// decoder to the pool; decoders are reused across sessions, which keeps
// their cepstral mean warm.
//
// A stream decodes in the caller's goroutine: SendAudio averages the
// channels, resamples to 16 kHz when needed, and runs the decoder over
// every whole Config.ChunkMs of audio before returning. An energy speech
// detector (a minimum-statistics noise floor) finds utterances: audio
// outside them is not decoded, it only advances the clock; an utterance
// starts 300 ms before the speech onset and ends after Config.PauseMs
// without speech (of which only 150 ms are decoded), which gives a final
// result with its words. Ending utterances at pauses is the largest
// accuracy gain measured. Long silences give empty final results every
// 2 s, and an utterance ends after 15 s in any case. Results wait in the
// stream's queue for Recv. The package starts no goroutines and runs no
// timers.
//
// Audio below 16 kHz (telephone audio at 8 kHz) leaves the model's upper
// band empty, which distorts its features: the stream fills that band
// with faint noise (-50 dBFS), and the decoder gets its wideband cepstral
// mean back after the session. Word errors on the shared clips taken down
// to 8 kHz: 44% on a warm decoder, 49% on fresh ones (79% without the
// fill).
//
// # Cost
//
// Measured on this machine (AMD EPYC, 2 cores) by the package's
// benchmarks: 0.12 CPU-seconds per second of speech (0.17 at 8 kHz),
// nothing for silence; about 90 MiB of resident memory per loaded decoder
// and 97 MiB once it has decoded (the model is not shared between
// decoders); 0.3 s to load one. Four streams (the default pool) use half
// a core and 390 MiB.
//
// pocketsphinx exits the process on some malformed model files; New
// checks the files' presence and headers first, which catches a missing
// package or a broken link but not a truncated file.
package local
