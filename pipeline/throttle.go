package pipeline

import (
	"log/slog"
	"net"
	"sync"
	"time"

	"earshot/stages/retry"
)

// throttle limits refused handshakes per client address: every refusal
// (a bad or missing key) takes a token from that address's bucket
// (Config.FailedHandshakeBurst, refilled at FailedHandshakesPerSec); an
// address whose bucket is empty is refused with 429 before any upgrade
// until a token has accrued. The buckets are retry.Budget's. At most
// maxThrottled addresses are kept: past that, those not refused for a
// minute are forgotten. Safe for concurrent use.
type throttle struct {
	cfg retry.BudgetConfig
	log *slog.Logger

	mu   sync.Mutex
	byIP map[string]*ipBucket
	// summary of refusals, logged at most every refusalSummaryEvery
	refused   int
	summaryAt time.Time
}

type ipBucket struct {
	b     *retry.Budget
	until time.Time // refused until then
	last  time.Time // last refusal
}

const (
	maxThrottled        = 10_000
	refusalSummaryEvery = 10 * time.Second
)

func newThrottle(cfg retry.BudgetConfig, log *slog.Logger) *throttle {
	return &throttle{cfg: cfg, log: log, byIP: map[string]*ipBucket{}, summaryAt: time.Now()}
}

// host is the address part of a request's RemoteAddr.
func host(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	return remote
}

// blocked reports whether ip is refused now, and for how long.
func (t *throttle) blocked(ip string, now time.Time) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.byIP[ip]; ok && now.Before(e.until) {
		return e.until.Sub(now), true
	}
	return 0, false
}

// failed counts a refused handshake from ip (reason is client-safe): at
// debug each, at info a summary at most every 10 s.
func (t *throttle) failed(ip, reason string, now time.Time) {
	t.log.Debug("listen refused", "reason", reason, "remote", ip)
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.byIP[ip]
	if !ok {
		if len(t.byIP) >= maxThrottled {
			t.pruneLocked(now)
		}
		e = &ipBucket{b: retry.NewBudget(t.cfg, nil)}
		t.byIP[ip] = e
	}
	e.last = now
	if wait := e.b.Reserve(); wait > 0 {
		e.until = now.Add(wait)
	}
	t.refused++
	if since := now.Sub(t.summaryAt); since >= refusalSummaryEvery {
		t.log.Info("listen refused (bad or missing keys)", "count", t.refused, "seconds", since.Round(time.Second).Seconds(),
			"addresses", len(t.byIP))
		t.refused, t.summaryAt = 0, now
	}
}

// pruneLocked forgets the addresses not refused for a minute. t.mu held.
func (t *throttle) pruneLocked(now time.Time) {
	for ip, e := range t.byIP {
		if now.Sub(e.last) > time.Minute && !now.Before(e.until) {
			delete(t.byIP, ip)
		}
	}
}
