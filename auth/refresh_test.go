package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	"earshot/auth"
)

func TestUnknownKidRefreshesOncePerGap(t *testing.T) {
	known := rsaSigner(t, "known", 0)
	r := newRig(t, jwksOf(t, known), auth.Config{MinRefreshMs: 30_000})
	td.Cmp(t, r.h.fetches.Load(), int32(1), "New loads once")

	_, err := r.verify(rsaSigner(t, "forged-1", 1).sign(t, claims(t0)))
	td.CmpErrorIs(t, err, auth.ErrUnknownKey)
	td.CmpErrorIs(t, err, auth.ErrInvalid)
	td.Cmp(t, r.h.fetches.Load(), int32(2), "one extra fetch for the unknown kid")

	r.clock.Advance(29 * time.Second)
	_, err = r.verify(rsaSigner(t, "forged-2", 1).sign(t, claims(t0)))
	td.CmpErrorIs(t, err, auth.ErrUnknownKey)
	td.Cmp(t, r.h.fetches.Load(), int32(2), "no fetch within MinRefreshMs")

	// Known keys never fetch.
	_, err = r.verify(known.sign(t, claims(t0)))
	td.CmpNoError(t, err)
	td.Cmp(t, r.h.fetches.Load(), int32(2))

	r.clock.Advance(time.Second)
	_, err = r.verify(rsaSigner(t, "forged-3", 1).sign(t, claims(t0)))
	td.CmpErrorIs(t, err, auth.ErrUnknownKey)
	td.Cmp(t, r.h.fetches.Load(), int32(3), "a fetch again once MinRefreshMs passed")
	td.Cmp(t, metricValue(t, r.set, `earshot_auth_tokens_total{result="unknown_key"}`), 3.0)
	td.Cmp(t, metricValue(t, r.set, `earshot_auth_jwks_refreshes_total{result="ok"}`), 3.0)
}

func TestRotation(t *testing.T) {
	oldKey, newKey := rsaSigner(t, "2029-key", 0), ecSigner(t, "2030-key")
	r := newRig(t, jwksOf(t, oldKey), auth.Config{})
	oldToken := oldKey.sign(t, claims(t0))
	_, err := r.verify(oldToken)
	td.Require(t).CmpNoError(err)

	r.h.setBody(jwksOf(t, newKey)) // the issuer rotates
	_, err = r.verify(oldToken)
	td.CmpNoError(t, err, "the old key works until the next refresh")

	id, err := r.verify(newKey.sign(t, claims(t0)))
	td.CmpNoError(t, err, "the new kid triggers a refresh and verifies")
	td.Cmp(t, id.Subject, testSubject)
	td.Cmp(t, r.h.fetches.Load(), int32(2))
	td.Cmp(t, r.v.Keys(), 1)

	_, err = r.verify(oldToken)
	td.CmpErrorIs(t, err, auth.ErrUnknownKey, "the removed key stopped working")
	td.Cmp(t, r.h.fetches.Load(), int32(2), "within MinRefreshMs: no fetch")
}

func TestBackgroundRefreshReplacesKeys(t *testing.T) {
	oldKey, newKey := rsaSigner(t, "old", 0), rsaSigner(t, "new", 1)
	r := newRig(t, jwksOf(t, oldKey), auth.Config{RefreshIntervalMs: 20})
	oldToken := oldKey.sign(t, claims(t0))
	_, err := r.verify(oldToken)
	td.Require(t).CmpNoError(err)
	r.h.setBody(jwksOf(t, newKey))
	eventually(t, "the background refresh to drop the old key", func() bool {
		_, err := r.verify(oldToken)
		return err != nil
	})
	_, err = r.verify(oldToken)
	td.CmpErrorIs(t, err, auth.ErrUnknownKey)
	_, err = r.verify(newKey.sign(t, claims(t0)))
	td.CmpNoError(t, err)
}

func TestServerDownKeepsCachedKeys(t *testing.T) {
	for _, mode := range []string{"500", "hang"} {
		t.Run(mode, func(t *testing.T) {
			k := rsaSigner(t, "k", 0)
			r := newRig(t, jwksOf(t, k), auth.Config{FetchTimeoutMs: 100, RefreshIntervalMs: 20})
			token := k.sign(t, claims(t0))
			if mode == "500" {
				r.h.setStatus(http.StatusInternalServerError)
			} else {
				r.h.hangUntilEnd(t)
			}
			// The background refresher fails a few times, keeping the keys.
			eventually(t, "failed background refreshes", func() bool {
				return metricValue(t, r.set, `earshot_auth_jwks_refreshes_total{result="error"}`) >= 2
			})
			td.Cmp(t, r.v.Keys(), 1)
			_, err := r.verify(token)
			td.CmpNoError(t, err, "cached keys keep working")

			// An unknown kid waits for a refresh at most about FetchTimeoutMs.
			r.clock.Advance(time.Hour)
			start := time.Now()
			_, err = r.verify(rsaSigner(t, "unknown", 1).sign(t, claims(t0.Add(time.Hour))))
			td.CmpErrorIs(t, err, auth.ErrUnknownKey)
			td.Cmp(t, time.Since(start), td.Lt(5*time.Second), "Verify is bounded")
			_, err = r.verify(k.sign(t, claims(t0.Add(time.Hour))))
			td.CmpNoError(t, err)
		})
	}
}

func TestVerifyContextCancelStopsWaiting(t *testing.T) {
	k := rsaSigner(t, "k", 0)
	r := newRig(t, jwksOf(t, k), auth.Config{FetchTimeoutMs: 60_000})
	r.h.hangUntilEnd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.v.Verify(ctx, rsaSigner(t, "unknown", 1).sign(t, claims(t0)))
	td.CmpErrorIs(t, err, auth.ErrUnknownKey)
	td.Cmp(t, time.Since(start), td.Lt(30*time.Second), "returned with ctx, not after FetchTimeoutMs")
}

func TestURLUnreachableAtNew(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/jwks.json"
	srv.Close() // nothing listens there now
	set := metrics.NewSet()
	v := newVerifier(t, auth.Config{JWKSURL: url, FetchTimeoutMs: 500}, auth.Deps{Metrics: set})
	td.Cmp(t, v.Keys(), 0)
	_, err := v.Verify(context.Background(), rsaSigner(t, "k", 0).sign(t, claims(time.Now())))
	td.CmpErrorIs(t, err, auth.ErrNoKeys)
	td.CmpErrorIs(t, err, auth.ErrInvalid)
	td.Cmp(t, metricValue(t, set, `earshot_auth_tokens_total{result="no_keys"}`), 1.0)
	td.Cmp(t, metricValue(t, set, `earshot_auth_jwks_refreshes_total{result="error"}`), td.Gte(1.0))
	td.Cmp(t, metricValue(t, set, `earshot_auth_jwks_keys`), 0.0)
}

func TestBadResponsesAreFailedLoads(t *testing.T) {
	k := rsaSigner(t, "k", 0)
	huge := append([]byte(`{"keys":[],"pad":"`), make([]byte, auth.MaxJWKSBytes)...)
	for name, setup := range map[string]func(h *jwksHandler){
		"status 404":     func(h *jwksHandler) { h.setStatus(http.StatusNotFound) },
		"status 204":     func(h *jwksHandler) { h.setStatus(http.StatusNoContent) },
		"not json":       func(h *jwksHandler) { h.setBody([]byte("<html>")) },
		"empty set":      func(h *jwksHandler) { h.setBody([]byte(`{"keys":[]}`)) },
		"no usable keys": func(h *jwksHandler) { h.setBody([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)) },
		"over 1 MiB":     func(h *jwksHandler) { h.setBody(huge) },
	} {
		t.Run(name, func(t *testing.T) {
			h := &jwksHandler{}
			setup(h)
			srv := newServer(t, h)
			set := metrics.NewSet()
			v := newVerifier(t, auth.Config{JWKSURL: srv.URL}, auth.Deps{Metrics: set})
			td.Cmp(t, v.Keys(), 0)
			td.Cmp(t, metricValue(t, set, `earshot_auth_jwks_refreshes_total{result="error"}`), 1.0)

			// Once the server answers well, an unknown-key refresh loads it.
			h.setBody(jwksOf(t, k))
			_, err := v.Verify(context.Background(), k.sign(t, claims(time.Now())))
			td.CmpNoError(t, err)
			td.Cmp(t, v.Keys(), 1)
		})
	}
}

func TestFailedRefreshKeepsOldKeys(t *testing.T) {
	k := rsaSigner(t, "k", 0)
	r := newRig(t, jwksOf(t, k), auth.Config{})
	r.h.setBody([]byte(`{"keys":[]}`))
	r.clock.Advance(time.Minute)
	_, err := r.verify(rsaSigner(t, "other", 1).sign(t, claims(t0)))
	td.CmpErrorIs(t, err, auth.ErrUnknownKey)
	td.Cmp(t, r.h.fetches.Load(), int32(2))
	td.Cmp(t, r.v.Keys(), 1, "an empty set does not replace the keys")
	_, err = r.verify(k.sign(t, claims(t0)))
	td.CmpNoError(t, err)
}

func TestSkipsUnusableKeys(t *testing.T) {
	good, goodEC := rsaSigner(t, "good", 0), ecSigner(t, "good-ec")
	enc := rsaSigner(t, "enc", 1).jwk()
	enc.Use = "enc"
	wrongAlg := rsaSigner(t, "wrong-alg", 2).jwk()
	wrongAlg.Algorithm = "RS512"
	ecAsRSA := ecSigner(t, "ec-as-rsa").jwk()
	ecAsRSA.Algorithm = "RS256"
	p384 := p384JWK(t, "p384")
	small := smallRSAJWK(t, "rsa-1024")
	body := jwksJSON(t, good.jwk(), goodEC.jwk(), enc, wrongAlg, ecAsRSA, p384, small)
	// An entry go-jose cannot parse is skipped, not fatal.
	body = append(body[:len(body)-2], []byte(`,{"kty":"XYZ","kid":"odd"},{"kty":"oct","k":"c2VjcmV0","kid":"hmac"}]}`)...)
	r := newRig(t, body, auth.Config{})
	td.Cmp(t, r.v.Keys(), 2)
	td.Cmp(t, metricValue(t, r.set, `earshot_auth_jwks_keys`), 2.0)
	_, err := r.verify(good.sign(t, claims(t0)))
	td.CmpNoError(t, err)
	_, err = r.verify(goodEC.sign(t, claims(t0)))
	td.CmpNoError(t, err)
	_, err = r.verify((&signer{kid: "enc", method: good.method, key: rsaKey(t, 1)}).sign(t, claims(t0)))
	td.CmpErrorIs(t, err, auth.ErrUnknownKey, "a use=enc key does not verify")
}

func TestJWKSFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "jwks.json")
	first, second := rsaSigner(t, "first", 0), ecSigner(t, "second")
	td.Require(t).CmpNoError(os.WriteFile(path, jwksOf(t, first), 0o600))
	clk := newClock(t0)
	v := newVerifier(t, auth.Config{JWKSFile: path}, auth.Deps{Now: clk.Now})
	td.Cmp(t, v.Keys(), 1)
	_, err := v.Verify(context.Background(), first.sign(t, claims(t0)))
	td.CmpNoError(t, err)

	// The file is re-read on refresh: replacing it rotates the keys.
	td.Require(t).CmpNoError(os.WriteFile(path, jwksOf(t, second), 0o600))
	_, err = v.Verify(context.Background(), second.sign(t, claims(t0)))
	td.CmpNoError(t, err)
	_, err = v.Verify(context.Background(), first.sign(t, claims(t0)))
	td.CmpErrorIs(t, err, auth.ErrUnknownKey)

	// A file that went bad keeps the keys.
	td.Require(t).CmpNoError(os.WriteFile(path, []byte("{"), 0o600))
	clk.Advance(time.Hour)
	_, err = v.Verify(context.Background(), first.sign(t, claims(t0.Add(time.Hour))))
	td.CmpErrorIs(t, err, auth.ErrUnknownKey)
	td.Cmp(t, v.Keys(), 1)
}

func TestJWKSFileErrorsAtNew(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		td.Require(t).CmpNoError(os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	for name, path := range map[string]string{
		"missing":        filepath.Join(dir, "nope.json"),
		"not json":       write("bad.json", "keys: []"),
		"empty set":      write("empty.json", `{"keys":[]}`),
		"no usable keys": write("hmac.json", `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`),
		"a directory":    dir,
	} {
		t.Run(name, func(t *testing.T) {
			set := metrics.NewSet()
			v, err := auth.New(auth.Config{Issuer: testIssuer, Audience: testAudience, JWKSFile: path}, auth.Deps{Metrics: set})
			td.CmpError(t, err)
			td.CmpNil(t, v)
			// The failed New left the set free for another Verifier.
			td.Cmp(t, metricValue(t, set, `earshot_auth_jwks_keys`), -1.0)
		})
	}
}

func TestConcurrentVerify(t *testing.T) {
	rs, es := rsaSigner(t, "rsa", 0), ecSigner(t, "ec")
	r := newRig(t, jwksOf(t, rs, es), auth.Config{RefreshIntervalMs: 5, MinRefreshMs: 1})
	tokens := []string{rs.sign(t, claims(t0)), es.sign(t, claims(t0))}
	unknown := rsaSigner(t, "unknown", 1).sign(t, claims(t0))
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				raw := tokens[(i+j)%2]
				if j%10 == 0 {
					raw = unknown
				}
				_, err := r.verify(raw)
				if raw == unknown {
					if err == nil {
						errs <- auth.ErrInvalid
					}
					continue
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	td.Cmp(t, metricValue(t, r.set, `earshot_auth_tokens_total{result="ok"}`), 360.0)
	td.Cmp(t, metricValue(t, r.set, `earshot_auth_tokens_total{result="unknown_key"}`), 40.0)
}
