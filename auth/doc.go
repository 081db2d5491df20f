// Package auth verifies OIDC/JWT bearer tokens for the gateway, beside
// its static API keys: Firebase ID tokens (RS256, `iss`
// "https://securetoken.google.com/<project>", `aud` "<project>", `sub` the
// user id) or those of any OIDC issuer (Auth0, Supabase, Clerk,
// Keycloak), checked against the issuer's JWKS.
//
// A [Verifier] caches the issuer's public keys, from a JWKS URL or file,
// and refreshes them in the background (hourly by default, sooner when
// the response's Cache-Control max-age says so) and when a token names a
// key it does not know, at most once per MinRefreshMs. A refreshed set
// replaces the old one, so a key the issuer removed stops working after
// the next refresh; a failed refresh keeps the old keys, so an
// unreachable issuer never stalls a handshake.
//
// Signatures are checked by github.com/golang-jwt/jwt/v5; only RS256 and
// ES256 are accepted. github.com/go-jose/go-jose/v4 parses the JWKS.
//
// Refusals are sentinel errors compared with errors.Is: [ErrExpired]
// (the client should refresh its token; the gateway closes with 4001),
// and [ErrInvalid] for everything else, with the more specific
// [ErrUnknownKey], [ErrAlgorithm] and [ErrNoKeys] wrapping it.
//
// Logs and errors never contain a token or a subject; log
// [Identity.Hash] to follow a user.
//
// Metrics, in the set given to New:
//
//	earshot_auth_tokens_total{result="ok"|"expired"|"invalid"|"unknown_key"|"algorithm"|"no_keys"}
//	earshot_auth_jwks_refreshes_total{result="ok"|"error"}
//	earshot_auth_jwks_keys          gauge: usable keys cached
//	earshot_auth_jwks_age_seconds   gauge: since the last successful load
package auth
