// Package client is a /v4/listen client that behaves like the Omi app's own
// live test: it streams a WAV file's audio in 100 ms chunks at a chosen
// pace, answers the server's text "ping" with the binary frame 0x8A 0x00,
// upserts transcript segments by id (and removes those named by
// segments_deleted), and measures what a user would see: how long the
// connection was held, how it was closed, the segments and words, the word
// error rate against a reference text, and latencies.
//
// The pieces are usable on their own: ParseWAV, Resample and PCM16 prepare
// audio; WER scores a transcript; Run drives one or many sessions in the
// modes of the Omi app's test (one long "podcast" stream, a disconnect
// after a few seconds, and staggered concurrent sessions). The command
// `earshot stream` is a thin layer over Run.
package client
