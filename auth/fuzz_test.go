package auth_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"earshot/auth"
)

// FuzzVerify feeds Verify arbitrary input on a fixed clock and key set.
// It must never panic, refuse with ErrExpired or ErrInvalid only, never
// quote the input in the error, and accept nothing but the valid seed's
// identity (no forgery from mutations of good tokens).
func FuzzVerify(f *testing.F) {
	rs, es := rsaSigner(f, "rsa-1", 0), ecSigner(f, "ec-1")
	path := filepath.Join(f.TempDir(), "jwks.json")
	if err := os.WriteFile(path, jwksOf(f, rs, es), 0o600); err != nil {
		f.Fatal(err)
	}
	clk := newClock(t0)
	v := newVerifier(f, auth.Config{JWKSFile: path}, auth.Deps{Now: clk.Now})
	want := auth.Identity{Subject: testSubject, Issuer: testIssuer, ExpiresAt: t0.Add(10 * time.Minute)}

	valid := rs.sign(f, claims(t0))
	expired := claims(t0)
	expired["exp"] = jwt.NewNumericDate(t0.Add(-time.Hour))
	none := jwt.NewWithClaims(jwt.SigningMethodNone, claims(t0))
	noneRaw, err := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		f.Fatal(err)
	}
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(t0))
	hs.Header["kid"] = "rsa-1"
	hsRaw, err := hs.SignedString([]byte("secret"))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		valid,
		es.sign(f, claims(t0)),
		rs.sign(f, expired),
		noneRaw,
		hsRaw,
		(&signer{kid: "", method: rs.method, key: rs.key}).sign(f, claims(t0)),
		"",
		"garbage",
		"a.b.c",
		"eyJhbGciOiJSUzI1NiJ9.e30.",
		strings.Repeat(".", 5),
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, raw string) {
		id, err := v.Verify(context.Background(), raw)
		if err == nil {
			if id != want {
				t.Fatalf("accepted a fuzzed token naming %+v", id)
			}
			return
		}
		if !errors.Is(err, auth.ErrExpired) && !errors.Is(err, auth.ErrInvalid) {
			t.Fatalf("refusal outside the sentinels: %v", err)
		}
		if errors.Is(err, auth.ErrExpired) && errors.Is(err, auth.ErrInvalid) {
			t.Fatalf("both expired and invalid: %v", err)
		}
		if len(raw) >= 16 && strings.Contains(err.Error(), raw) {
			t.Fatalf("error quotes the input: %v", err)
		}
	})
}
