// Package stages holds the contracts between the stages of a session, and
// nothing else: audio frames and the gate's marks (Audio, Mark, the frame
// buffer pool), the connector's output (Update, EventKind, Failure) and the
// fan-out's (Message, Segment), the upstream provider interface (Provider,
// Stream, Control, Result, Word, StreamConfig), the error classes
// (UpstreamError, Classify, the shared sentinels), the speech-detector
// interface, channel helpers (Send, Recv) and the defaults convention
// (Default, DefaultOrOff).
//
// A session's audio flows through stages joined by bounded channels:
//
//	client ─► ingest ─► gate ─► connector ─► fan-out ─► sinks (client, ...)
//
// # Rooms
//
// Each stage, each provider and the retry primitives have a package of
// their own, with their own config, metrics and errors.go. What each owns,
// and what it may import of the project:
//
//   - stages: the contracts. Imports nothing of the project.
//   - stages/ingest: decoding client frames into Audio on the capture
//     clock (raw PCM with the half-sample carry, µ-law, Opus, LC3, AAC;
//     bad-packet concealment). Imports stages and the codec bindings
//     internal/libopus, internal/liblc3 and internal/libav.
//   - stages/gate: the VAD gate (modes, pre-roll, hangover, the detector
//     windows, fail-open); it marks audio with facts and never asks for a
//     control. Imports stages and internal/resample.
//   - stages/connector: the one stage that owns an upstream socket: dials
//     with retry, KeepAlive, every Finalize decision (the gate's silence,
//     a client pause, a stall probe), the replay ring, the clock map, the
//     stall and pause watches, reconnects. Imports stages, stages/retry
//     and internal/chunks.
//   - stages/fanout: segments from final results (the segmenter), their
//     flushing, conversations on the capture clock, the Sink interface
//     and the bounded sink outboxes with their overflow policies.
//     Imports stages and internal/uuid.
//   - stages/pusher: the downstream sink of the pusher protocol (a Sink
//     of the fan-out by its methods, without importing it): per-session
//     bounded buffers and connection states, the process-wide breaker,
//     processing requests kept until answered. Imports stages,
//     stages/retry and protocol/pusher (its wire form, as a provider
//     knows its own).
//   - stages/retry: full-jitter backoff, the circuit breaker (which also
//     records permanent refusals for readiness), the retry budget, and
//     Connect, the one retry loop (the connector's and the pusher sink's),
//     and Retry-After parsing. Imports stages.
//   - stages/deepgram, stages/local, stages/silero: providers (Deepgram's
//     live protocol, the embedded pocketsphinx recognizer, Silero VAD).
//     They implement contracts of this package and import nothing of
//     another stage or provider.
//   - stages/stagestest: fakes and test signals of the contracts, for tests
//     only.
//
// No stage imports another stage, a provider or the pipeline: package
// pipeline wires them (channels, their sizes, one errgroup per session),
// and package protocol owns the client protocol they never see. Stages
// report neutral outcomes (a Failure, a Message's Event); the pipeline turns
// them into close codes and service_status events.
//
// # The stage contract
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
// A stage that transforms one item at a time (ingest, the gate) also
// offers its work as a step driven on its caller's goroutine (ingest's
// Step, the gate's Stepper): the same code Run loops over, so that the
// pipeline can chain them without a goroutine and a channel between
// them. A step owns its output channel as Run does (its Close closes it),
// and its sends watch the context given to it.
//
// # Defaults convention
//
// Every config struct of the stages and providers follows one convention:
//
//   - A zero field means its documented default (so a zero struct is the
//     documented configuration).
//   - A negative value turns off a feature that can be off; each such field
//     says so ("negative disables", "negative means none").
//   - For a setting that cannot be off, a negative value is not a choice: a
//     constructor that can fail refuses it with an error (the local engine,
//     the emulator); the others, whose constructors cannot fail, take the
//     default (Default does this).
//   - A switch that defaults to true is a *bool, nil meaning the default.
//
// Durations are integer milliseconds named ...Ms; sizes ...Bytes.
package stages
