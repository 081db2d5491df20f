package auth_test

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	"earshot/auth"
)

// These tests run the Verifier in a synctest bubble, on an in-memory
// transport to the JWKS handler, so the background refresher's timers
// run on the bubble's fake clock.

// memVerifier builds a Verifier on an in-memory JWKS endpoint. Its
// backoff draws the top of the jitter range, so that every wait is its
// bound (1 s, 2 s, 4 s, ...).
func memVerifier(t *testing.T, tr *memTransport, cfg auth.Config) (*auth.Verifier, *metrics.Set) {
	t.Helper()
	cfg.JWKSURL = "https://issuer.test/.well-known/jwks.json"
	set := metrics.NewSet()
	v := newVerifier(t, cfg, auth.Deps{HTTPClient: &http.Client{Transport: tr}, Metrics: set,
		Rand: func() float64 { return 1 }})
	return v, set
}

func TestBackoffUntilTheServerIsUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := rsaSigner(t, "k", 0)
		tr := &memTransport{h: &jwksHandler{body: jwksOf(t, k)}}
		tr.down.Store(true)
		v, set := memVerifier(t, tr, auth.Config{})
		td.Cmp(t, v.Keys(), 0, "New succeeds without keys")
		td.Cmp(t, tr.attempts.Load(), int32(1))

		_, err := v.Verify(context.Background(), k.sign(t, claims(time.Now())))
		td.CmpErrorIs(t, err, auth.ErrNoKeys)
		td.Cmp(t, tr.attempts.Load(), int32(2), "Verify tried one bounded refresh")

		// Retries after 1 s, then 2 s, then 4 s more: at 1, 3 and 7 s.
		for _, step := range []struct {
			sleep time.Duration
			want  int32
		}{
			{900 * time.Millisecond, 2},
			{200 * time.Millisecond, 3}, // t = 1.1 s
			{1800 * time.Millisecond, 3},
			{200 * time.Millisecond, 4}, // t = 3.1 s
			{3800 * time.Millisecond, 4},
			{200 * time.Millisecond, 5}, // t = 7.1 s
		} {
			time.Sleep(step.sleep)
			synctest.Wait()
			td.Cmp(t, tr.attempts.Load(), step.want, "attempts after +%s", step.sleep)
		}
		td.Cmp(t, v.Keys(), 0)

		tr.down.Store(false) // the next retry, 8 s later, loads the keys
		time.Sleep(8 * time.Second)
		synctest.Wait()
		td.Cmp(t, tr.attempts.Load(), int32(6))
		td.Cmp(t, v.Keys(), 1)
		_, err = v.Verify(context.Background(), k.sign(t, claims(time.Now())))
		td.CmpNoError(t, err)
		td.Cmp(t, metricValue(t, set, `earshot_auth_jwks_refreshes_total{result="ok"}`), 1.0)
		td.Cmp(t, metricValue(t, set, `earshot_auth_jwks_refreshes_total{result="error"}`), 5.0)
		td.Cmp(t, metricValue(t, set, `earshot_auth_jwks_age_seconds`), td.Between(0.09, 0.11), "loaded at 15 s, read at 15.1 s")

		// After a success, the next refresh is a full interval (1 h) later.
		time.Sleep(59 * time.Minute)
		synctest.Wait()
		td.Cmp(t, tr.attempts.Load(), int32(6))
		td.Cmp(t, metricValue(t, set, `earshot_auth_jwks_age_seconds`), td.Between(3540.09, 3540.11))
		time.Sleep(time.Minute + time.Second)
		synctest.Wait()
		td.Cmp(t, tr.attempts.Load(), int32(7))
		td.Cmp(t, metricValue(t, set, `earshot_auth_jwks_age_seconds`), td.Between(1.09, 1.11))
	})
}

func TestBackoffIsCapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &memTransport{h: &jwksHandler{}}
		tr.down.Store(true)
		memVerifier(t, tr, auth.Config{})
		// 1+2+4+...+256 s = 511 s; from then on every 300 s.
		time.Sleep(511*time.Second + time.Millisecond)
		synctest.Wait()
		td.Cmp(t, tr.attempts.Load(), int32(10))
		time.Sleep(299 * time.Second)
		synctest.Wait()
		td.Cmp(t, tr.attempts.Load(), int32(10))
		time.Sleep(time.Second)
		synctest.Wait()
		td.Cmp(t, tr.attempts.Load(), int32(11), "capped at 5 min")
		time.Sleep(300 * time.Second)
		synctest.Wait()
		td.Cmp(t, tr.attempts.Load(), int32(12))
	})
}

func TestCacheControlMaxAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := rsaSigner(t, "k", 0)
		h := &jwksHandler{body: jwksOf(t, k), cacheControl: "public, max-age=5, must-revalidate"}
		tr := &memTransport{h: h}
		memVerifier(t, tr, auth.Config{MinRefreshMs: 2000})
		td.Cmp(t, tr.attempts.Load(), int32(1))
		time.Sleep(4900 * time.Millisecond)
		synctest.Wait()
		td.Cmp(t, tr.attempts.Load(), int32(1))
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		td.Cmp(t, tr.attempts.Load(), int32(2), "refreshed after max-age")

		// A max-age below MinRefreshMs is raised to it.
		h.mu.Lock()
		h.cacheControl = "max-age=0"
		h.mu.Unlock()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		td.Cmp(t, tr.attempts.Load(), int32(3))
		time.Sleep(1800 * time.Millisecond) // t = 11.9 s
		synctest.Wait()
		td.Cmp(t, tr.attempts.Load(), int32(3))
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		td.Cmp(t, tr.attempts.Load(), int32(4), "not sooner than MinRefreshMs")

		// A max-age above the interval does not stretch it.
		h.mu.Lock()
		h.cacheControl = "max-age=86400"
		h.mu.Unlock()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		td.Cmp(t, tr.attempts.Load(), int32(5))
		time.Sleep(time.Hour + time.Millisecond)
		synctest.Wait()
		td.Cmp(t, tr.attempts.Load(), int32(6))
	})
}

func TestConcurrentUnknownKidsShareOneFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		oldKey, newKey := rsaSigner(t, "old", 0), rsaSigner(t, "new", 1)
		h := &jwksHandler{body: jwksOf(t, oldKey)}
		tr := &memTransport{h: h}
		v, _ := memVerifier(t, tr, auth.Config{MinRefreshMs: 1, FetchTimeoutMs: 10_000})
		h.setBody(jwksOf(t, newKey))
		release := make(chan struct{})
		h.setHang(release)

		token := newKey.sign(t, claims(time.Now()))
		errs := make(chan error, 10)
		for range 10 {
			go func() {
				_, err := v.Verify(context.Background(), token)
				errs <- err
			}()
			time.Sleep(5 * time.Millisecond) // past MinRefreshMs: each may refresh
			synctest.Wait()                  // and is now waiting
		}
		td.Cmp(t, tr.attempts.Load(), int32(2), "one fetch in flight for all")
		h.setHang(nil)
		h.setBody(jwksOf(t, newKey))
		close(release) // the in-flight request ends without an answer
		for range 10 {
			td.CmpErrorIs(t, <-errs, auth.ErrUnknownKey)
		}
		td.Cmp(t, tr.attempts.Load(), int32(2))

		// The next one fetches again and gets the new key.
		time.Sleep(5 * time.Millisecond)
		_, err := v.Verify(context.Background(), token)
		td.CmpNoError(t, err)
		td.Cmp(t, tr.attempts.Load(), int32(3))
	})
}

func TestCloseStopsTheRefresher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := rsaSigner(t, "k", 0)
		tr := &memTransport{h: &jwksHandler{body: jwksOf(t, k)}}
		set := metrics.NewSet()
		v, err := auth.New(auth.Config{
			Issuer: testIssuer, Audience: testAudience,
			JWKSURL: "https://issuer.test/jwks", RefreshIntervalMs: 1000,
		}, auth.Deps{HTTPClient: &http.Client{Transport: tr}, Metrics: set})
		td.Require(t).CmpNoError(err)
		time.Sleep(2500 * time.Millisecond)
		synctest.Wait()
		td.Cmp(t, tr.attempts.Load(), int32(3))

		td.CmpNoError(t, v.Close())
		td.CmpNoError(t, v.Close(), "idempotent")
		time.Sleep(time.Hour)
		synctest.Wait()
		td.Cmp(t, tr.attempts.Load(), int32(3), "no refresh after Close")
		// Cached keys still verify; unknown kids fetch nothing.
		_, err = v.Verify(context.Background(), k.sign(t, claims(time.Now())))
		td.CmpNoError(t, err)
		_, err = v.Verify(context.Background(), rsaSigner(t, "x", 1).sign(t, claims(time.Now())))
		td.CmpErrorIs(t, err, auth.ErrUnknownKey)
		td.Cmp(t, tr.attempts.Load(), int32(3))
		td.Cmp(t, metricValue(t, set, `earshot_auth_jwks_keys`), -1.0, "gauges unregistered")
		// synctest.Test fails if a goroutine of the bubble is left.
	})
}
