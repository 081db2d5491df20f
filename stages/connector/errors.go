package connector

import "errors"

// ErrStalled means an upstream stream took audio but sent no result for
// too long (Config.StallTimeoutMs). It is retryable: the stream is
// replaced and its unacknowledged audio replayed.
var ErrStalled = errors.New("upstream stalled")
