package auth

import (
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Refusals returned by [Verifier.Verify]. Compare with errors.Is: the
// returned errors wrap one of these and say a little more (which check
// failed), but never contain the token, any part of it, or its subject.
var (
	// ErrExpired: the token's `exp` has passed, beyond the leeway, and
	// nothing else is wrong with it (signature, issuer, audience, subject
	// and the other times are fine). The client should refresh its token
	// and reconnect; the gateway closes with 4001 for this one only.
	// ErrExpired does NOT wrap ErrInvalid.
	ErrExpired = errors.New("token expired")

	// ErrInvalid: every other refusal wraps it. Malformed tokens, bad
	// signatures, wrong or missing `iss` or `aud`, missing `exp`, `nbf` or
	// `iat` in the future beyond the leeway, empty or too long `sub`, and
	// the more specific refusals below. A client cannot fix these by
	// refreshing; it needs a different token.
	ErrInvalid = errors.New("invalid token")

	// ErrUnknownKey (wraps ErrInvalid): no cached key can check the token,
	// even after the bounded unknown-key refresh. Either the token names a
	// `kid` the issuer's key set does not hold, or it has no `kid` and the
	// set holds no key of the type its `alg` needs. (A token without `kid`
	// is tried against every cached key of the matching type; if none
	// verifies, that is a bad signature, plain ErrInvalid.)
	ErrUnknownKey = fmt.Errorf("%w: unknown signing key", ErrInvalid)

	// ErrAlgorithm (wraps ErrInvalid): the token's `alg` is refused. Only
	// RS256 and ES256 are accepted; `none`, every HS* (including an HMAC
	// token keyed with an RSA public key) and everything else is refused,
	// and so is a token whose `kid` names a key of a type its `alg` cannot
	// use (an ES256 token naming an RSA key, say).
	ErrAlgorithm = fmt.Errorf("%w: refused algorithm", ErrInvalid)

	// ErrNoKeys (wraps ErrInvalid): the verifier holds no keys yet (the
	// JWKS URL could not be fetched since New); it cannot check any token.
	// The background refresher keeps trying.
	ErrNoKeys = fmt.Errorf("%w: no verification keys loaded", ErrInvalid)
)

// claimFailures are the jwt claim errors, in the order their reason is
// reported when several apply. An expired token that also fails one of
// these is ErrInvalid, not ErrExpired.
var claimFailures = []error{
	jwt.ErrTokenInvalidIssuer,
	jwt.ErrTokenInvalidAudience,
	jwt.ErrTokenRequiredClaimMissing,
	jwt.ErrTokenNotValidYet,
	jwt.ErrTokenUsedBeforeIssued,
	jwt.ErrTokenInvalidSubject,
	jwt.ErrTokenInvalidId,
	jwt.ErrInvalidType,
}

// mapParseError turns an error of jwt.Parser.ParseWithClaims into one of
// the package's refusals. header is the token's decoded header, nil when
// the token did not get that far. jwt's own texts are replaced by fixed
// reasons: some of them quote bytes of the token.
func mapParseError(err error, header map[string]any) error {
	// The keyfunc's own refusals come through wrapped in jwt errors.
	for _, sentinel := range []error{ErrNoKeys, ErrUnknownKey, ErrAlgorithm} {
		if errors.Is(err, sentinel) {
			return sentinel
		}
	}
	if header != nil {
		if alg, ok := header["alg"].(string); !ok || !allowedAlg(alg) {
			return ErrAlgorithm
		}
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fmt.Errorf("%w: malformed", ErrInvalid)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return fmt.Errorf("%w: bad signature", ErrInvalid)
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		for _, c := range claimFailures {
			if errors.Is(err, c) {
				return fmt.Errorf("%w: %w", ErrInvalid, c)
			}
		}
		if errors.Is(err, jwt.ErrTokenExpired) {
			return ErrExpired
		}
		return fmt.Errorf("%w: bad claims", ErrInvalid)
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return fmt.Errorf("%w: unverifiable", ErrInvalid)
	}
	return fmt.Errorf("%w: rejected", ErrInvalid)
}

// result is the metrics label of a Verify outcome.
func result(err error) string {
	switch {
	case err == nil:
		return resultOK
	case errors.Is(err, ErrExpired):
		return resultExpired
	case errors.Is(err, ErrUnknownKey):
		return resultUnknownKey
	case errors.Is(err, ErrAlgorithm):
		return resultAlgorithm
	case errors.Is(err, ErrNoKeys):
		return resultNoKeys
	}
	return resultInvalid
}
