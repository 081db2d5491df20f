// Package fanout is the last stage of a session: it builds transcript
// segments from the connector's final results (the Segmenter), merges and
// flushes them every FlushIntervalMs, and hands every sink the same
// neutral stages.Message through a bounded Outbox with an explicit, counted
// overflow policy, so that a slow sink never blocks the session. Each sink
// encodes the messages for its own protocol (the client's is package
// protocol, in the pipeline).
//
// It owns its config (Config, SegmenterConfig), metrics (Metrics) and the
// outboxes; it imports package stages and internal/uuid.
package fanout
