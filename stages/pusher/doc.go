// Package pusher is the fan-out's downstream sink of the Omi pusher
// protocol (spec/pusher.md, wire forms in earshot/protocol/pusher): one
// WebSocket per listen session to <pusher>/v1/trigger/listen, carrying the
// session's audio (101, every FlushIntervalMs), its segments (102), the
// conversation each belongs to (103), the requests to process finished
// conversations (104) and speaker samples (105), with a heartbeat (100);
// the pusher answers 104s with 201.
//
// A pusher failure never touches the client session: every input is a
// non-blocking call into bounded buffers (audio by bytes, segments by
// batches, oldest dropped and counted), and the connection lives on a
// goroutine of its own that the Pusher owns, not the session. Per
// session the connection goes CONNECTED → RECONNECT_BACKOFF (jittered
// exponential, capped, a few attempts: stages/retry) → DEGRADED
// (a cool-down) → HALF_OPEN_PROBE (one dial) → CONNECTED, every wait a
// timer in a select with the context. A process-wide breaker (Omi's: open
// after 20 failures in 30 s, 60 s, one probe) keeps sessions from
// hammering a dead pusher.
//
// Processing requests are never dropped for lack of room: they wait in
// a bounded pending set, are re-sent after every reconnect until a 201
// answers them, and outlive the session (its connection goroutine goes on
// after the client left) until answered or LingerMs passes; what is given
// up is counted.
package pusher
