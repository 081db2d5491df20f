package auth_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	"earshot/auth"
)

func TestConfigErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jwks.json")
	td.Require(t).CmpNoError(os.WriteFile(path, jwksOf(t, rsaSigner(t, "k", 0)), 0o600))
	ok := auth.Config{Issuer: testIssuer, Audience: testAudience, JWKSFile: path}
	for name, c := range map[string]struct {
		mutate func(*auth.Config)
		want   string
	}{
		"no issuer":         {func(c *auth.Config) { c.Issuer = "" }, "issuer is required"},
		"no audience":       {func(c *auth.Config) { c.Audience = "" }, "audience is required"},
		"no source":         {func(c *auth.Config) { c.JWKSFile = "" }, "one of jwks url and jwks file"},
		"two sources":       {func(c *auth.Config) { c.JWKSURL = "https://x.test/jwks" }, "exclusive"},
		"ftp url":           {func(c *auth.Config) { c.JWKSFile, c.JWKSURL = "", "ftp://x.test/jwks" }, "not http or https"},
		"url without host":  {func(c *auth.Config) { c.JWKSFile, c.JWKSURL = "", "https:///jwks" }, "no host"},
		"negative leeway":   {func(c *auth.Config) { c.LeewayMs = -1 }, "leeway must not be negative"},
		"negative interval": {func(c *auth.Config) { c.RefreshIntervalMs = -1 }, "refresh interval must not be negative"},
		"negative min":      {func(c *auth.Config) { c.MinRefreshMs = -5 }, "min refresh must not be negative"},
		"negative timeout":  {func(c *auth.Config) { c.FetchTimeoutMs = -5 }, "fetch timeout must not be negative"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := ok
			c.mutate(&cfg)
			v, err := auth.New(cfg, auth.Deps{})
			td.CmpNil(t, v)
			td.Cmp(t, err, td.Smuggle(func(e error) string { return e.Error() }, td.Contains(c.want)))
			td.Cmp(t, err.Error(), strings.ToLower(err.Error()))
		})
	}
	v := newVerifier(t, ok, auth.Deps{})
	td.Cmp(t, v.Keys(), 1, "the base config is valid")
}

func TestSharedMetricsSet(t *testing.T) {
	k := rsaSigner(t, "k", 0)
	path := filepath.Join(t.TempDir(), "jwks.json")
	td.Require(t).CmpNoError(os.WriteFile(path, jwksOf(t, k), 0o600))
	cfg := auth.Config{Issuer: testIssuer, Audience: testAudience, JWKSFile: path}
	set := metrics.NewSet()
	first, err := auth.New(cfg, auth.Deps{Metrics: set})
	td.Require(t).CmpNoError(err)
	_, err = first.Verify(context.Background(), k.sign(t, claims(timeNow())))
	td.CmpNoError(t, err)

	second, err := auth.New(cfg, auth.Deps{Metrics: set})
	td.CmpError(t, err, "the gauges belong to the open verifier")
	td.CmpNil(t, second)

	td.CmpNoError(t, first.Close())
	second, err = auth.New(cfg, auth.Deps{Metrics: set})
	td.Require(t).CmpNoError(err, "free again after Close")
	defer second.Close()
	_, err = second.Verify(context.Background(), k.sign(t, claims(timeNow())))
	td.CmpNoError(t, err)
	td.Cmp(t, metricValue(t, set, `earshot_auth_tokens_total{result="ok"}`), 2.0, "counters are shared")
	td.Cmp(t, metricValue(t, set, `earshot_auth_jwks_refreshes_total{result="ok"}`), 2.0)
	td.Cmp(t, metricValue(t, set, `earshot_auth_jwks_keys`), 1.0)
}

func TestMetricsRegistered(t *testing.T) {
	k := rsaSigner(t, "k", 0)
	r := newRig(t, jwksOf(t, k), auth.Config{})
	for _, series := range []string{
		`earshot_auth_tokens_total{result="ok"}`,
		`earshot_auth_tokens_total{result="expired"}`,
		`earshot_auth_tokens_total{result="invalid"}`,
		`earshot_auth_tokens_total{result="unknown_key"}`,
		`earshot_auth_tokens_total{result="algorithm"}`,
		`earshot_auth_tokens_total{result="no_keys"}`,
		`earshot_auth_jwks_refreshes_total{result="error"}`,
	} {
		td.Cmp(t, metricValue(t, r.set, series), 0.0, series)
	}
	td.Cmp(t, metricValue(t, r.set, `earshot_auth_jwks_refreshes_total{result="ok"}`), 1.0)
	td.Cmp(t, metricValue(t, r.set, `earshot_auth_jwks_keys`), 1.0)
	td.Cmp(t, metricValue(t, r.set, `earshot_auth_jwks_age_seconds`), 0.0, "injected clock: loaded at now")

	_, err := r.verify("garbage")
	td.CmpErrorIs(t, err, auth.ErrInvalid)
	td.Cmp(t, metricValue(t, r.set, `earshot_auth_tokens_total{result="invalid"}`), 1.0)
	r.clock.Advance(90_000_000_000) // 90 s
	td.Cmp(t, metricValue(t, r.set, `earshot_auth_jwks_age_seconds`), 90.0)
}
