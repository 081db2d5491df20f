// Package ingest is the first stage of a session: it decodes the client's
// binary frames, in whichever codec the session named (raw PCM, µ-law,
// Opus, LC3, AAC), once, into stages.Audio: 16-bit mono PCM at the
// session's rate on the capture clock, the index of the sample since the
// session's first audio frame, advanced by the samples each frame decoded
// to. A packet that cannot be decoded is concealed and counted, never
// fatal.
//
// LC3 and AAC decode through C libraries (liblc3, FFmpeg's libavcodec)
// compiled in with the build tag libcodecs; without it those codecs are
// refused by ParseCodec, which the server turns into close 1003. Opus
// (github.com/pion/opus) and µ-law are pure Go and always there.
//
// It owns its config (Config, Codec), its metrics (Metrics) and its errors
// (errors.go); of the other stages it imports only package stages.
package ingest
