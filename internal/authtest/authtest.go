// Package authtest is a signing issuer for tests of signed-token sign-in:
// it makes a key, publishes it as a JWKS (bytes or a file) and signs
// tokens with it, as Firebase or any OIDC issuer would. Tests only.
package authtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// Issuer signs ES256 tokens with one P-256 key whose key id is KeyID.
// Its Issuer and Audience are the iss and aud of the tokens it signs by
// default. Safe for concurrent use.
type Issuer struct {
	Issuer, Audience, KeyID string
	key                     *ecdsa.PrivateKey
}

// New returns an Issuer for a Firebase-like project: iss
// "https://securetoken.google.com/<project>", aud the project.
func New(tb testing.TB, project string) *Issuer {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return &Issuer{
		Issuer: "https://securetoken.google.com/" + project, Audience: project,
		KeyID: "test-key-1", key: key,
	}
}

// JWKS is the issuer's public key set as its JWKS endpoint serves it.
func (is *Issuer) JWKS(tb testing.TB) []byte {
	tb.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &is.key.PublicKey, KeyID: is.KeyID, Algorithm: "ES256", Use: "sig",
	}}})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// JWKSFile writes JWKS to a file in a test directory and returns its path.
func (is *Issuer) JWKSFile(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "jwks.json")
	if err := os.WriteFile(path, is.JWKS(tb), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// Token signs a token for subject sub that expires after ttl (negative:
// already expired), issued now; edit, if not nil, changes the claims
// first.
func (is *Issuer) Token(tb testing.TB, sub string, ttl time.Duration, edit func(jwt.MapClaims)) string {
	tb.Helper()
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": is.Issuer, "aud": is.Audience, "sub": sub,
		"iat": now.Add(min(ttl, 0) - time.Minute).Unix(), "exp": now.Add(ttl).Unix(),
	}
	if edit != nil {
		edit(claims)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = is.KeyID
	s, err := tok.SignedString(is.key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
