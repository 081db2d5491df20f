package retry

import (
	"time"
)

// BackoffConfig shapes a connect's retries: full-jitter exponential
// backoff. Zero fields take the documented defaults.
type BackoffConfig struct {
	// BaseMs is the first delay's upper bound in milliseconds (default
	// 1000).
	BaseMs int
	// CapMs caps every delay's upper bound in milliseconds (default 32000).
	CapMs int
	// Attempts is how many dials one connect makes before it gives up
	// (default 3). A negative value means zero attempts: Connect fails at
	// once without dialing.
	Attempts int
}

// Defaults of BackoffConfig.
const (
	DefaultBackoffBaseMs   = 1000
	DefaultBackoffCapMs    = 32000
	DefaultBackoffAttempts = 3
)

func (c BackoffConfig) withDefaults() BackoffConfig {
	if c.BaseMs <= 0 {
		c.BaseMs = DefaultBackoffBaseMs
	}
	if c.CapMs <= 0 {
		c.CapMs = DefaultBackoffCapMs
	}
	if c.CapMs < c.BaseMs {
		c.CapMs = c.BaseMs
	}
	switch {
	case c.Attempts == 0:
		c.Attempts = DefaultBackoffAttempts
	case c.Attempts < 0:
		c.Attempts = 0
	}
	return c
}

// Delay returns the wait before retry number retry (0 for the wait after
// the first failed dial): a uniform draw, given by u in [0, 1), from
// [0, min(cap, base·2^retry)).
func (c BackoffConfig) Delay(retry int, u float64) time.Duration {
	c = c.withDefaults()
	upper := time.Duration(c.CapMs) * time.Millisecond
	if retry < 30 {
		if d := time.Duration(c.BaseMs) * time.Millisecond << retry; d < upper {
			upper = d
		}
	}
	return time.Duration(u * float64(upper))
}
