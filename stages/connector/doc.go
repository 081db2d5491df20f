// Package connector is the one generic stage that owns an upstream
// speech-to-text socket. Providers (stages.Provider) only speak their
// protocol; everything time-driven about an upstream lives here:
//
//   - connecting with retry (stages/retry's Connect, breaker and budget),
//     aborted at once when the client leaves;
//   - the KeepAlive timer, the only KeepAlive owner of the socket;
//   - every Finalize decision: the gate's silence (FinalizeSilenceMs), a
//     client pause (FinalizeIdleMs) and a stall probe, each counted;
//   - the replay ring (ring.go): audio no final result covered yet,
//     re-sent on a new stream after a failure, kept off the Go heap in
//     internal/chunks;
//   - the clock map (clock.go): provider time back onto the capture clock
//     across the gate's gaps and reconnects;
//   - the stall and pause watches (watch.go), reconnects, and the neutral
//     outcome (stages.Failure) when it gives up.
//
// It owns its config (Config), metrics (Metrics) and errors (errors.go); it
// imports packages stages, stages/retry and internal/chunks.
package connector
