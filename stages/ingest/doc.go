// Package ingest is the first stage of a session: it decodes the client's
// binary frames (pcm8, pcm16) into stages.Audio on the capture clock, the
// index of the sample since the session's first audio frame. A frame with
// an odd byte count carries its half sample into the next.
//
// It owns its config (Config, Codec), its errors (errors.go) and nothing
// else; it imports only package stages.
package ingest
