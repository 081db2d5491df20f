package auth

import (
	"context"
	"log/slog"
	"net/url"
	"slices"
	"time"

	"earshot/stages/retry"
)

// refreshBackoff shapes the background refresher's retries after failed
// loads.
var refreshBackoff = retry.BackoffConfig{
	BaseMs: int(FirstBackoff / time.Millisecond), CapMs: int(MaxBackoff / time.Millisecond),
}

// flight is one load under way; done closes when it ends, and err is
// readable after that.
type flight struct {
	done chan struct{}
	err  error
}

// joinRefresh returns the load under way, or starts one in a goroutine
// the Verifier owns. For an unknown-kid refresh (unknownKid) it returns
// nil unless MinRefreshMs passed since the last one started; it also
// returns nil once the Verifier is closed.
func (v *Verifier) joinRefresh(unknownKid bool) *flight {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return nil
	}
	if unknownKid {
		now := v.now()
		if !v.lastUnknown.IsZero() && now.Sub(v.lastUnknown) < v.s.minRefresh {
			return nil
		}
		v.lastUnknown = now
	}
	if v.inflight != nil {
		return v.inflight
	}
	if unknownKid {
		v.log.Info("no cached key fits a token; refreshing jwks")
	}
	f := &flight{done: make(chan struct{})}
	v.inflight = f
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		f.err = v.load()
		v.mu.Lock()
		v.inflight = nil
		v.mu.Unlock()
		close(f.done)
	}()
	return f
}

// awaitRefresh runs (or joins) an unknown-kid refresh and waits for it,
// at most FetchTimeoutMs and not past ctx. It reports whether it waited,
// i.e. whether the keys are worth looking up again.
func (v *Verifier) awaitRefresh(ctx context.Context) bool {
	f := v.joinRefresh(true)
	if f == nil {
		return false
	}
	t := time.NewTimer(v.s.fetchTimeout)
	defer t.Stop()
	select {
	case <-f.done:
	case <-t.C:
	case <-ctx.Done():
	}
	return true
}

// load reads the key set once and, if it holds usable keys, replaces the
// cached set with it; otherwise the cached keys stay. It is bounded by
// FetchTimeoutMs and by the Verifier's life.
func (v *Verifier) load() error {
	var (
		body   []byte
		maxAge = time.Duration(-1)
		err    error
	)
	if v.s.file != "" {
		body, err = readFile(v.s.file)
	} else {
		body, maxAge, err = fetchURL(v.life, v.client, v.s.url, v.s.fetchTimeout)
	}
	var set *keySet
	var skipped int
	if err == nil {
		set, skipped, err = parseJWKS(body)
	}
	if err != nil {
		if v.life.Err() != nil {
			return err // closing: not a failure of the source
		}
		v.m.refresh(err)
		v.log.Warn("jwks load failed; keeping cached keys",
			"source", v.source(), "error", err, "cached_keys", v.Keys())
		return err
	}
	v.m.refresh(nil)
	old := v.keys.Swap(set)
	v.loadedAt.Store(v.now().UnixNano())
	v.mu.Lock()
	v.maxAge = maxAge
	v.mu.Unlock()
	level := slog.LevelDebug
	if !slices.Equal(kids(old), kids(set)) {
		level = slog.LevelInfo
	}
	v.log.Log(v.life, level, "jwks loaded", "source", v.source(), "keys", set.len(), "skipped", skipped)
	return nil
}

// kids lists the key ids of a set, in order, to notice a rotation.
func kids(s *keySet) []string {
	if s == nil {
		return nil
	}
	out := make([]string, len(s.all))
	for i, k := range s.all {
		out[i] = k.kid + "/" + k.alg
	}
	return out
}

// source names the key source for logs, without URL credentials.
func (v *Verifier) source() string {
	if v.s.file != "" {
		return v.s.file
	}
	if u, err := url.Parse(v.s.url); err == nil {
		return u.Redacted()
	}
	return "jwks url"
}

// refresher is the background goroutine: it reloads the keys on schedule
// until Close. failed says whether the load in New failed.
func (v *Verifier) refresher(failed bool) {
	defer v.wg.Done()
	var failures int
	timer := time.NewTimer(v.nextDelay(failed, &failures))
	defer timer.Stop()
	for {
		select {
		case <-v.life.Done():
			return
		case <-timer.C:
		}
		f := v.joinRefresh(false)
		if f == nil {
			return
		}
		select {
		case <-v.life.Done():
			return
		case <-f.done:
		}
		timer.Reset(v.nextDelay(f.err != nil, &failures))
	}
}

// nextDelay is the wait before the next background load. After a
// failure it is the project's backoff (retry.BackoffConfig: full jitter,
// the bound doubling from FirstBackoff up to MaxBackoff with each failure
// in a row, counted in failures), never above RefreshIntervalMs; after a
// success the count restarts and the wait is RefreshIntervalMs, or the
// last response's max-age when shorter, but not below MinRefreshMs.
func (v *Verifier) nextDelay(failed bool, failures *int) time.Duration {
	if failed {
		d := refreshBackoff.Delay(*failures, v.rand())
		*failures++
		return min(d, v.s.refreshInterval)
	}
	*failures = 0
	v.mu.Lock()
	maxAge := v.maxAge
	v.mu.Unlock()
	if maxAge >= 0 && maxAge < v.s.refreshInterval {
		return min(max(maxAge, v.s.minRefresh), v.s.refreshInterval)
	}
	return v.s.refreshInterval
}
