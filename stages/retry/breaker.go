package retry

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"earshot/stages"
)

// BreakerConfig shapes a circuit breaker on one upstream target. Zero
// fields (and negative ones) take the documented defaults.
type BreakerConfig struct {
	// FailureThreshold is how many consecutive counted failures, across
	// all sessions, open the breaker (default 5).
	FailureThreshold int
	// FirstOpenMs is how long, in milliseconds, the breaker stays open
	// the first time before it lets one half-open probe through (default
	// 1000, at most OpenMs). Each probe that fails doubles the next open
	// period, up to OpenMs; a probe that succeeds starts over. So a short
	// upstream restart costs about as long as it lasts, and a long outage
	// is probed every OpenMs.
	FirstOpenMs int
	// OpenMs is the longest open period (default 30000).
	OpenMs int
	// WindowMs, if > 0, counts only failures within this many
	// milliseconds of the first of a run: a failure that comes later
	// starts a new count at 1 (Omi's pusher breaker: 20 failures in
	// 30 s). 0 counts every consecutive failure however spread out.
	WindowMs int
}

// Defaults of BreakerConfig, and the wait of callers turned away while a
// half-open probe is in flight.
const (
	DefaultBreakerFailureThreshold = 5
	DefaultBreakerFirstOpenMs      = 1000
	DefaultBreakerOpenMs           = 30000
	// BreakerProbeWait is the wait Allow returns while a half-open probe
	// is in flight (its end is unknown), or OpenMs if that is shorter.
	BreakerProbeWait = time.Second
	// BreakerResumeSpread: callers turned away by an open breaker go
	// again at a uniform draw within this long after the end of their
	// wait, or after the probe that closed it.
	BreakerResumeSpread = 500 * time.Millisecond
)

func (c BreakerConfig) withDefaults() BreakerConfig {
	stages.Default(&c.FailureThreshold, DefaultBreakerFailureThreshold)
	stages.Default(&c.OpenMs, DefaultBreakerOpenMs)
	stages.Default(&c.FirstOpenMs, DefaultBreakerFirstOpenMs)
	c.FirstOpenMs = min(c.FirstOpenMs, c.OpenMs)
	return c
}

// BreakerState is the state of a Breaker. Its numeric value is what the
// state gauge exports.
type BreakerState int

// States of a Breaker.
const (
	// BreakerClosed lets every dial through.
	BreakerClosed BreakerState = iota
	// BreakerOpen lets no dial through until its open period has passed.
	BreakerOpen
	// BreakerHalfOpen lets one probe dial through at a time; its outcome
	// closes or reopens the breaker.
	BreakerHalfOpen
)

// String names the state: "closed", "open" or "half_open".
func (s BreakerState) String() string {
	switch s {
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half_open"
	default:
		return "closed"
	}
}

// Breaker is a process-wide circuit breaker on one upstream target, shared
// by every session that dials it. It is safe for concurrent use; it starts
// no goroutine and never sleeps: time is read with time.Now.
//
// Contract: every Allow that returns ok=true must be followed by exactly
// one of Success, Failure or Abandon once that dial is over. A Breaker
// cannot tell which caller holds the half-open probe, so an outcome that
// arrives while half-open is taken as the probe's; outcomes that arrive
// while open are ignored (they come from dials allowed before it opened).
// A probe that reports nothing within OpenMs is presumed lost and the next
// Allow gets a new probe, so a forgotten outcome cannot wedge the target.
type Breaker struct {
	mu         sync.Mutex
	open       time.Duration // cfg.OpenMs: the longest open period
	first      time.Duration // cfg.FirstOpenMs
	period     time.Duration // the next open period: first, doubled per failed probe
	threshold  int           // cfg.FailureThreshold
	probeWait  time.Duration // min(open, BreakerProbeWait)
	state      BreakerState  // stored state; open past openUntil reads as half-open
	failures   int           // consecutive counted failures while closed
	window     time.Duration // cfg.WindowMs, 0 for none
	firstFail  time.Time     // when the run of failures counted began
	openUntil  time.Time     // end of the open period
	probing    bool          // a half-open probe is in flight
	probeSince time.Time     // when that probe was let through
	closed     chan struct{} // closed while the breaker is closed; a new one at each trip
	opens      *metrics.Counter
	refused    atomic.Pointer[string] // reason of the latest permanent refusal, nil after a success
}

// closedChan is a channel that is already closed.
func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// NewBreaker returns a closed breaker for target, a bounded label value
// such as the provider name (no quotes or backslashes). If set is not nil
// it registers there the gauge earshot_upstream_breaker_state{target=...}
// (0 closed, 1 open, 2 half-open; read at scrape time) and the counter
// earshot_upstream_breaker_opens_total{target=...}. It panics if they are
// already registered in set (one Breaker per target per set).
func NewBreaker(target string, cfg BreakerConfig, set *metrics.Set) *Breaker {
	cfg = cfg.withDefaults()
	b := &Breaker{
		open:      time.Duration(cfg.OpenMs) * time.Millisecond,
		first:     time.Duration(cfg.FirstOpenMs) * time.Millisecond,
		threshold: cfg.FailureThreshold,
		window:    time.Duration(max(cfg.WindowMs, 0)) * time.Millisecond,
		closed:    closedChan(),
	}
	b.period = b.first
	b.probeWait = min(b.open, BreakerProbeWait)
	if set != nil {
		label := `{target="` + target + `"}`
		set.NewGauge(`earshot_upstream_breaker_state`+label, func() float64 { return float64(b.State()) })
		b.opens = set.NewCounter(`earshot_upstream_breaker_opens_total` + label)
	}
	return b
}

// Allow asks to dial now. ok=true means go ahead: the breaker is closed,
// or it is half-open and this caller got the single probe slot. ok=false
// means do not dial; wait (> 0) is how long until a probe may be let
// through: the rest of the open period, or BreakerProbeWait (at most
// OpenMs) while another caller's probe is in flight.
func (b *Breaker) Allow() (ok bool, wait time.Duration) {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		return true, 0
	case BreakerOpen:
		if rest := b.openUntil.Sub(now); rest > 0 {
			return false, rest
		}
		b.state = BreakerHalfOpen
		b.probing = false
	}
	if b.probing && now.Sub(b.probeSince) < b.open {
		return false, b.probeWait
	}
	b.probing = true
	b.probeSince = now
	return true, 0
}

// Success reports that an allowed dial succeeded. It resets the failure
// count and forgets a permanent refusal; a half-open probe's success
// closes the breaker.
func (b *Breaker) Success() {
	b.refused.Store(nil)
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		b.failures = 0
	case BreakerHalfOpen:
		b.state = BreakerClosed
		b.failures = 0
		b.probing = false
		b.period = b.first
		close(b.closed)
	}
}

// Closed returns a channel that is closed once the breaker is closed: at
// once while it is, else when a probe succeeds. A caller turned away by
// Allow waits on it as well as on Allow's wait, so that every session
// waiting on an open breaker resumes as soon as the upstream is back,
// not at the end of its own wait. Safe for concurrent use.
func (b *Breaker) Closed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// Failure reports that an allowed dial failed in a way that counts (a
// retryable upstream failure). While closed it counts the failure and
// opens the breaker at FailureThreshold consecutive ones (within WindowMs
// of the first, if set), for the current
// open period (FirstOpenMs after a success); a half-open probe's failure
// doubles the period, up to OpenMs, and opens it again.
func (b *Breaker) Failure() {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		if b.failures == 0 || (b.window > 0 && now.Sub(b.firstFail) > b.window) {
			b.failures, b.firstFail = 0, now
		}
		b.failures++
		if b.failures >= b.threshold {
			b.trip(now)
		}
	case BreakerHalfOpen:
		b.period = min(2*b.period, b.open) // the probe failed: wait longer
		b.trip(now)
	}
}

// Abandon reports that an allowed dial ended without an outcome that
// counts: the client left, or the upstream was at capacity (busy, not
// down). It counts nothing; a half-open probe's
// Abandon frees the probe slot for the next caller.
func (b *Breaker) Abandon() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == BreakerHalfOpen {
		b.probing = false
	}
}

// Refused reports that an allowed dial was refused for a reason retrying
// cannot fix (bad key, no credit: a permanent error), with the error's
// client-safe reason. Like Abandon it counts nothing towards opening; the
// reason is kept for Broken until a dial succeeds.
func (b *Breaker) Refused(reason string) {
	b.refused.Store(&reason)
	b.Abandon()
}

// Broken returns the reason of the latest permanent refusal, unless a dial
// succeeded since. A server whose every session would be refused that way
// is not ready. Safe for concurrent use.
func (b *Breaker) Broken() (reason string, broken bool) {
	if r := b.refused.Load(); r != nil {
		return *r, true
	}
	return "", false
}

// State returns the state now. An open breaker whose open period is over
// reads as half-open even before a caller asks for the probe.
func (b *Breaker) State() BreakerState {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == BreakerOpen && !now.Before(b.openUntil) {
		return BreakerHalfOpen
	}
	return b.state
}

// trip opens the breaker for the current period from now. b.mu must be
// held.
func (b *Breaker) trip(now time.Time) {
	if b.state == BreakerClosed {
		b.closed = make(chan struct{})
	}
	b.state = BreakerOpen
	b.openUntil = now.Add(b.period)
	b.failures = 0
	b.probing = false
	if b.opens != nil {
		b.opens.Inc()
	}
}
