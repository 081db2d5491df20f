package retry

import "errors"

// ErrBreakerOpen means the upstream target's circuit breaker refused an
// attempt without dialing. It is retryable: the *stages.UpstreamError that
// wraps it carries the wait until the breaker lets a probe through.
var ErrBreakerOpen = errors.New("upstream circuit breaker open")
