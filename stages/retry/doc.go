// Package retry holds the retry primitives, in one place: full-jitter
// exponential backoff (BackoffConfig), Connect (the one retry loop, generic
// over what it dials: a time.Timer in a select with ctx.Done(), so a client
// that leaves interrupts a dial or a wait at once, honouring Retry-After),
// Wait, the process-wide circuit breaker per upstream target (Breaker; it
// also records permanent refusals, which the server's readiness reads) and
// the process-wide retry budget (Budget).
//
// Errors are classified by stages.Classify: 400, 401, 402, 403 and close
// 1008 are permanent and never retried; 429, 5xx, 1006 and 1011 are
// retried. It imports only package stages; the connector uses it, and so
// will the pusher sink.
package retry
