// Package pusher is the wire form of the Omi "pusher" protocol
// (spec/pusher.md): the downstream WebSocket a listen session feeds with
// its audio, segments and conversation requests, and the replies the
// pusher sends back. It is the one place that knows the frames: the
// gateway's pusher sink encodes with it and `earshot record` decodes with
// it.
//
// Every binary frame starts with a 4-byte little-endian header (Kind);
// the payload follows. Parse never panics and never keeps the frame.
// It imports nothing of the project.
package pusher
