package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Config says which tokens a Verifier accepts and where it gets the
// issuer's keys. Durations are in milliseconds; a zero duration takes its
// default and a negative one makes New fail.
type Config struct {
	// Issuer is the exact `iss` a token must carry, e.g.
	// "https://securetoken.google.com/<project>" for Firebase. Required.
	Issuer string
	// Audience must be one of the token's `aud` values (a single string
	// or an array), e.g. "<project>" for Firebase. Required.
	Audience string
	// JWKSURL is the issuer's JWKS document (http or https), e.g.
	// "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com".
	// Exactly one of JWKSURL and JWKSFile must be set.
	JWKSURL string
	// JWKSFile is a JWKS JSON file, for air-gapped sites. It is re-read on
	// each refresh, so replacing it rotates the keys.
	JWKSFile string
	// LeewayMs is the clock skew allowed on `exp`, `nbf` and `iat`
	// (default DefaultLeewayMs).
	LeewayMs int
	// RefreshIntervalMs is the period of the background refresh (default
	// DefaultRefreshIntervalMs). When the JWKS response carries a
	// Cache-Control max-age shorter than this, the next refresh comes
	// after max-age instead, but never sooner than MinRefreshMs.
	RefreshIntervalMs int
	// MinRefreshMs is the least gap between two refreshes triggered by
	// tokens naming an unknown `kid` (default DefaultMinRefreshMs), so a
	// flood of forged kids costs at most one fetch per gap.
	MinRefreshMs int
	// FetchTimeoutMs bounds one JWKS fetch, and how long Verify waits for
	// an unknown-kid refresh (default DefaultFetchTimeoutMs).
	FetchTimeoutMs int
}

// Defaults of Config.
const (
	DefaultLeewayMs          = 30_000
	DefaultRefreshIntervalMs = 3_600_000
	DefaultMinRefreshMs      = 30_000
	DefaultFetchTimeoutMs    = 2_000
)

// Limits that are not configurable.
const (
	// MaxSubjectBytes is the longest `sub` accepted.
	MaxSubjectBytes = 256
	// MaxTokenBytes is the longest raw token Verify looks at; longer
	// input is refused as malformed before any parsing.
	MaxTokenBytes = 16 << 10
	// MaxJWKSBytes is the largest JWKS document read (URL or file);
	// a larger one is a failed load.
	MaxJWKSBytes = 1 << 20
	// FirstBackoff and MaxBackoff bound the background refresher's retry
	// delay after a failed load (full jitter below a bound that starts at
	// FirstBackoff and doubles up to MaxBackoff); it is never longer than
	// RefreshIntervalMs.
	FirstBackoff = time.Second
	MaxBackoff   = 5 * time.Minute
)

// Deps are the Verifier's collaborators. Every field may be nil.
type Deps struct {
	// HTTPClient fetches JWKSURL. nil → a client whose Timeout is
	// FetchTimeoutMs. Each fetch is bounded by FetchTimeoutMs anyway.
	HTTPClient *http.Client
	// Logger gets structured logs (never a token or a subject). nil →
	// discard.
	Logger *slog.Logger
	// Metrics is where the earshot_auth_* metrics are registered. nil → a
	// private set. Counters are shared by Verifiers of the same set; the
	// gauges belong to one live Verifier at a time (see New).
	Metrics *metrics.Set
	// Now is the clock of token time checks, refresh gaps and the JWKS
	// age. nil → time.Now. Timers of the background refresher run on
	// real time regardless.
	Now func() time.Time
	// Rand returns the uniform draws in [0, 1) of the refresher's backoff
	// jitter. nil → math/rand/v2.
	Rand func() float64
}

// settings is a Config with defaults applied, as durations.
type settings struct {
	issuer, audience string
	url, file        string
	leeway           time.Duration
	refreshInterval  time.Duration
	minRefresh       time.Duration
	fetchTimeout     time.Duration
}

func (c Config) settings() (settings, error) {
	var errs []error
	if c.Issuer == "" {
		errs = append(errs, errors.New("issuer is required"))
	}
	if c.Audience == "" {
		errs = append(errs, errors.New("audience is required"))
	}
	switch {
	case c.JWKSURL == "" && c.JWKSFile == "":
		errs = append(errs, errors.New("one of jwks url and jwks file is required"))
	case c.JWKSURL != "" && c.JWKSFile != "":
		errs = append(errs, errors.New("jwks url and jwks file are exclusive"))
	case c.JWKSURL != "":
		if err := checkURL(c.JWKSURL); err != nil {
			errs = append(errs, err)
		}
	}
	s := settings{issuer: c.Issuer, audience: c.Audience, url: c.JWKSURL, file: c.JWKSFile}
	for _, f := range []struct {
		name string
		ms   int
		def  int
		dst  *time.Duration
	}{
		{"leeway", c.LeewayMs, DefaultLeewayMs, &s.leeway},
		{"refresh interval", c.RefreshIntervalMs, DefaultRefreshIntervalMs, &s.refreshInterval},
		{"min refresh", c.MinRefreshMs, DefaultMinRefreshMs, &s.minRefresh},
		{"fetch timeout", c.FetchTimeoutMs, DefaultFetchTimeoutMs, &s.fetchTimeout},
	} {
		ms := f.ms
		if ms < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative (got %d ms)", f.name, ms))
		}
		if ms == 0 {
			ms = f.def
		}
		*f.dst = time.Duration(ms) * time.Millisecond
	}
	if err := errors.Join(errs...); err != nil {
		return settings{}, fmt.Errorf("auth config: %w", err)
	}
	return s, nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("jwks url: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("jwks url: scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("jwks url: no host")
	}
	return nil
}
