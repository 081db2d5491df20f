package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/maxatome/go-testdeep/td"
)

const (
	testIssuer   = "https://securetoken.google.com/earshot-test"
	testAudience = "earshot-test"
	testSubject  = "user-4711"
)

// t0 is the injected "now" of tests that drive the clock.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// RSA-2048 generation is slow under -race: tests share a few keys.
var (
	rsaOnce sync.Once
	rsaKeys [4]*rsa.PrivateKey
)

func rsaKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		for j := range rsaKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys[j] = k
		}
	})
	return rsaKeys[i]
}

// signer signs test tokens with one key under one kid.
type signer struct {
	kid    string
	method jwt.SigningMethod
	key    crypto.Signer
}

func rsaSigner(t testing.TB, kid string, i int) *signer {
	t.Helper()
	return &signer{kid: kid, method: jwt.SigningMethodRS256, key: rsaKey(t, i)}
}

func ecSigner(t testing.TB, kid string) *signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	td.Require(t).CmpNoError(err)
	return &signer{kid: kid, method: jwt.SigningMethodES256, key: k}
}

// jwk is the public JWK of s, as an issuer publishes it.
func (s *signer) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: s.key.Public(), KeyID: s.kid, Algorithm: s.method.Alg(), Use: "sig"}
}

// sign signs claims, naming s.kid in the header (none when empty).
func (s *signer) sign(t testing.TB, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(s.method, claims)
	if s.kid != "" {
		tok.Header["kid"] = s.kid
	}
	raw, err := tok.SignedString(s.key)
	td.Require(t).CmpNoError(err)
	return raw
}

// claims are valid claims at now for testSubject.
func claims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": testIssuer,
		"aud": testAudience,
		"sub": testSubject,
		"iat": jwt.NewNumericDate(now.Add(-time.Minute)),
		"exp": jwt.NewNumericDate(now.Add(10 * time.Minute)),
	}
}

// jwksJSON is a JWKS document of keys.
func jwksJSON(t testing.TB, keys ...jose.JSONWebKey) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	td.Require(t).CmpNoError(err)
	return b
}

func jwksOf(t testing.TB, signers ...*signer) []byte {
	t.Helper()
	keys := make([]jose.JSONWebKey, len(signers))
	for i, s := range signers {
		keys[i] = s.jwk()
	}
	return jwksJSON(t, keys...)
}

// p384JWK is a P-384 public key, which the verifier does not use.
func p384JWK(t testing.TB, kid string) jose.JSONWebKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	td.Require(t).CmpNoError(err)
	return jose.JSONWebKey{Key: k.Public(), KeyID: kid, Use: "sig"}
}

// smallRSAJWK is an RSA-1024 public key, too small to be used.
func smallRSAJWK(t testing.TB, kid string) jose.JSONWebKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	td.Require(t).CmpNoError(err)
	return jose.JSONWebKey{Key: k.Public(), KeyID: kid, Algorithm: "RS256", Use: "sig"}
}

// errorsIs is errors.Is, short.
func errorsIs(err, target error) bool { return errors.Is(err, target) }

// timeNow is the real clock, for tests that inject none.
func timeNow() time.Time { return time.Now() }
