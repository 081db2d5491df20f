// Package stages holds the contracts between the stages of a session and
// the stage implementations.
//
// A session's audio flows through stages joined by bounded channels:
//
//	client ─► ingest ─► gate ─► connector ─► fan-out ─► sinks (client, ...)
//
// Every stage follows the same contract:
//
//   - It reads its input channel until that channel is closed (the soft
//     stop), then finishes its work, closes its own output channel and
//     returns nil.
//   - It watches ctx.Done() on every send and receive; a cancelled context
//     (the hard stop) makes it return ctx's cause promptly. It still closes
//     its output channel.
//   - It never closes a channel it did not create the output of, and never
//     starts a goroutine that outlives its Run call.
//
// Plumbing (creating channels, sizing them, starting stages under one
// errgroup, labelling goroutines) lives in package pipeline.
package stages
