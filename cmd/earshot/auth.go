package main

import (
	"errors"
	"flag"
	"log/slog"

	"github.com/VictoriaMetrics/metrics"

	"earshot/auth"
)

// authFlags are serve's flags for signed client tokens (OIDC/JWT, e.g.
// Firebase ID tokens) and browser origins.
type authFlags struct {
	issuer, audience, jwksURL, jwksFile *string
	leewayMs                            *int
	origins                             *string
}

func defineAuthFlags(fs *flag.FlagSet) *authFlags {
	return &authFlags{
		issuer: envString(fs, "auth-issuer", "EARSHOT_AUTH_ISSUER", "",
			"accept signed tokens (JWT, RS256/ES256) from this issuer, exactly as in their iss (Firebase: https://securetoken.google.com/<project>)"),
		audience: envString(fs, "auth-audience", "EARSHOT_AUTH_AUDIENCE", "",
			"the aud signed tokens must name (Firebase: the project id); required with --auth-issuer"),
		jwksURL: envString(fs, "auth-jwks-url", "EARSHOT_AUTH_JWKS_URL", "",
			"the issuer's JWKS (Firebase: https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com), cached and refreshed in the background"),
		jwksFile: envString(fs, "auth-jwks-file", "EARSHOT_AUTH_JWKS_FILE", "",
			"the issuer's keys as a JWKS file, for air-gapped sites (instead of --auth-jwks-url; re-read on each refresh)"),
		leewayMs: envInt(fs, "auth-leeway-ms", "EARSHOT_AUTH_LEEWAY_MS", auth.DefaultLeewayMs,
			"clock skew allowed on a token's exp, nbf and iat"),
		origins: envString(fs, "allowed-origins", "EARSHOT_ALLOWED_ORIGINS", "",
			"comma-separated Origin hosts (patterns like *.example.com) from which browsers may open sessions; empty: same origin only"),
	}
}

// verifier returns the token verifier the flags describe, or nil when no
// issuer is set. The caller closes it.
func (f *authFlags) verifier(log *slog.Logger, set *metrics.Set) (*auth.Verifier, error) {
	if *f.issuer == "" {
		if *f.audience != "" || *f.jwksURL != "" || *f.jwksFile != "" {
			return nil, errors.New("--auth-audience, --auth-jwks-url and --auth-jwks-file need --auth-issuer")
		}
		return nil, nil
	}
	if *f.audience == "" || (*f.jwksURL == "") == (*f.jwksFile == "") {
		return nil, errors.New("--auth-issuer needs --auth-audience and one of --auth-jwks-url or --auth-jwks-file")
	}
	return auth.New(auth.Config{
		Issuer: *f.issuer, Audience: *f.audience, JWKSURL: *f.jwksURL, JWKSFile: *f.jwksFile,
		LeewayMs: *f.leewayMs,
	}, auth.Deps{Logger: log, Metrics: set})
}
