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
// model package (pocketsphinx-en-us) at run time, and a primed model
// folder made by scripts/setup-pocketsphinx.sh (see Config.ModelDir):
// Debian's en-us acoustic model whose feat.params starts the live
// cepstral-mean normalisation from the mean of real speech (cmninit)
// rather than Debian's value. Every session starts from that mean (word
// errors on the shared speech clips: 33% with Debian's model folder, 22%
// primed).
//
// # Decoders and streams
//
// New loads Config.PoolSize decoders up front. Dial takes a free one or,
// when all are busy, refuses at once with a retryable
// *stages.UpstreamError (HTTP 429, code CAPACITY) wrapping ErrCapacity,
// so that the connector backs off and the gateway can tell the client to
// come back later (WebSocket close 1013). Ending a stream returns its
// decoder to the pool.
//
// Decoders stay loaded from session to session, but every session starts
// from the state of a freshly loaded decoder, never from the previous
// session's: Dial puts back the primed cepstral mean (the model folder's
// cmninit, with no frames of speech behind it) and starts a new
// pocketsphinx stream, whose noise statistics start over. Within a session
// the mean adapts from one utterance to the next. So a session hears the
// same words at the same times whichever sessions its decoder served
// before (confidences may differ in the fifth decimal: pocketsphinx keeps
// some state between utterances that its API does not reach). Carrying
// the mean and the noise statistics over from the previous session, as
// this package did before, gave a clip up to 5 word errors more, or 3
// fewer, than on a fresh decoder, depending on the clips before it, and
// the whole set 0.5 to 2.1 points more (TestReusedMatchesFresh).
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
// Words are the dictionary's, lower-case (stages.Word.Word). Their
// punctuated forms (stages.Word.Punctuated) make each final result one
// sentence: its first word capitalised and a period after its last (a
// one-word result gets both). Interim results capitalise their first word
// but end without a period. No other punctuation or casing is added.
//
// Audio below 16 kHz (telephone audio at 8 kHz) leaves the model's upper
// band empty, which distorts its features: the stream fills that band
// with faint noise (-50 dBFS). A narrowband session starts from the
// primed (wideband) mean like every other. Word errors on the shared
// clips taken down to 8 kHz: 47% (79% without the fill).
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
