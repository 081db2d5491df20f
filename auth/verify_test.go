package auth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/maxatome/go-testdeep/td"

	"earshot/auth"
)

func TestVerifyValid(t *testing.T) {
	rs, es := rsaSigner(t, "rsa-1", 0), ecSigner(t, "ec-1")
	r := newRig(t, jwksOf(t, rs, es), auth.Config{})
	td.Cmp(t, r.v.Keys(), 2)
	for _, s := range []*signer{rs, es} {
		t.Run(s.method.Alg(), func(t *testing.T) {
			id, err := r.verify(s.sign(t, claims(t0)))
			td.Require(t).CmpNoError(err)
			td.Cmp(t, id, auth.Identity{
				Subject:   testSubject,
				Issuer:    testIssuer,
				ExpiresAt: t0.Add(10 * time.Minute),
			})
		})
	}
	td.Cmp(t, metricValue(t, r.set, `earshot_auth_tokens_total{result="ok"}`), 2.0)
}

func TestVerifyAudienceArray(t *testing.T) {
	rs := rsaSigner(t, "rsa-1", 0)
	r := newRig(t, jwksOf(t, rs), auth.Config{})
	c := claims(t0)
	c["aud"] = []string{"other", testAudience}
	_, err := r.verify(rs.sign(t, c))
	td.CmpNoError(t, err)
}

func TestVerifyWithoutKid(t *testing.T) {
	// Two RSA keys and an EC one without kids: a token without kid is
	// tried against every key of its type.
	a, b, es := rsaSigner(t, "", 0), rsaSigner(t, "", 1), ecSigner(t, "")
	r := newRig(t, jwksOf(t, a, b, es), auth.Config{})
	for _, s := range []*signer{a, b, es} {
		_, err := r.verify(s.sign(t, claims(t0)))
		td.CmpNoError(t, err, s.method.Alg())
	}
	// A key that is not in the set: a bad signature, not an unknown key.
	stranger := rsaSigner(t, "", 2)
	_, err := r.verify(stranger.sign(t, claims(t0)))
	td.CmpErrorIs(t, err, auth.ErrInvalid)
	td.CmpFalse(t, errorsIs(err, auth.ErrUnknownKey))
}

func TestVerifyExpired(t *testing.T) {
	rs := rsaSigner(t, "rsa-1", 0)
	r := newRig(t, jwksOf(t, rs), auth.Config{})
	raw := rs.sign(t, claims(t0)) // exp t0+10m, default leeway 30 s

	r.clock.Advance(10*time.Minute + 29*time.Second)
	_, err := r.verify(raw)
	td.CmpNoError(t, err, "expired but within the leeway")

	r.clock.Advance(2 * time.Second)
	_, err = r.verify(raw)
	td.CmpErrorIs(t, err, auth.ErrExpired)
	td.CmpFalse(t, errorsIs(err, auth.ErrInvalid), "ErrExpired must not wrap ErrInvalid")
	td.Cmp(t, metricValue(t, r.set, `earshot_auth_tokens_total{result="expired"}`), 1.0)
}

func TestVerifyLeewayConfigured(t *testing.T) {
	rs := rsaSigner(t, "rsa-1", 0)
	r := newRig(t, jwksOf(t, rs), auth.Config{LeewayMs: 1000})
	c := claims(t0)
	c["exp"] = jwt.NewNumericDate(t0.Add(-2 * time.Second))
	_, err := r.verify(rs.sign(t, c))
	td.CmpErrorIs(t, err, auth.ErrExpired)
	c["exp"] = jwt.NewNumericDate(t0)
	_, err = r.verify(rs.sign(t, c))
	td.CmpNoError(t, err)
}

func TestVerifyClaimRefusals(t *testing.T) {
	rs := rsaSigner(t, "rsa-1", 0)
	r := newRig(t, jwksOf(t, rs), auth.Config{})
	for name, mutate := range map[string]func(jwt.MapClaims){
		"wrong issuer":             func(c jwt.MapClaims) { c["iss"] = "https://securetoken.google.com/other" },
		"missing issuer":           func(c jwt.MapClaims) { delete(c, "iss") },
		"wrong audience":           func(c jwt.MapClaims) { c["aud"] = "other" },
		"audience array without":   func(c jwt.MapClaims) { c["aud"] = []string{"a", "b"} },
		"missing audience":         func(c jwt.MapClaims) { delete(c, "aud") },
		"missing exp":              func(c jwt.MapClaims) { delete(c, "exp") },
		"nbf in the future":        func(c jwt.MapClaims) { c["nbf"] = jwt.NewNumericDate(t0.Add(5 * time.Minute)) },
		"iat in the future":        func(c jwt.MapClaims) { c["iat"] = jwt.NewNumericDate(t0.Add(5 * time.Minute)) },
		"empty sub":                func(c jwt.MapClaims) { c["sub"] = "" },
		"missing sub":              func(c jwt.MapClaims) { delete(c, "sub") },
		"sub too long":             func(c jwt.MapClaims) { c["sub"] = strings.Repeat("u", auth.MaxSubjectBytes+1) },
		"sub not a string":         func(c jwt.MapClaims) { c["sub"] = 42 },
		"exp not a number":         func(c jwt.MapClaims) { c["exp"] = "tomorrow" },
		"expired and wrong issuer": func(c jwt.MapClaims) { c["iss"] = "x"; c["exp"] = jwt.NewNumericDate(t0.Add(-time.Hour)) },
		"expired and empty sub":    func(c jwt.MapClaims) { c["sub"] = ""; c["exp"] = jwt.NewNumericDate(t0.Add(-time.Hour)) },
	} {
		t.Run(name, func(t *testing.T) {
			c := claims(t0)
			mutate(c)
			_, err := r.verify(rs.sign(t, c))
			t.Log(err)
			td.CmpErrorIs(t, err, auth.ErrInvalid)
			td.CmpFalse(t, errorsIs(err, auth.ErrExpired))
			td.CmpFalse(t, errorsIs(err, auth.ErrAlgorithm))
		})
	}
}

func TestVerifyClaimEdgesAccepted(t *testing.T) {
	rs := rsaSigner(t, "rsa-1", 0)
	r := newRig(t, jwksOf(t, rs), auth.Config{})
	for name, mutate := range map[string]func(jwt.MapClaims){
		"nbf within leeway": func(c jwt.MapClaims) { c["nbf"] = jwt.NewNumericDate(t0.Add(20 * time.Second)) },
		"iat within leeway": func(c jwt.MapClaims) { c["iat"] = jwt.NewNumericDate(t0.Add(20 * time.Second)) },
		"no iat":            func(c jwt.MapClaims) { delete(c, "iat") },
		"sub of 256 bytes":  func(c jwt.MapClaims) { c["sub"] = strings.Repeat("u", auth.MaxSubjectBytes) },
	} {
		t.Run(name, func(t *testing.T) {
			c := claims(t0)
			mutate(c)
			_, err := r.verify(rs.sign(t, c))
			td.CmpNoError(t, err)
		})
	}
}

func TestVerifyRefusedAlgorithms(t *testing.T) {
	rs, es := rsaSigner(t, "rsa-1", 0), ecSigner(t, "ec-1")
	r := newRig(t, jwksOf(t, rs, es), auth.Config{})
	rsaPub := &rsaKey(t, 0).PublicKey
	pkix, err := x509.MarshalPKIXPublicKey(rsaPub)
	td.Require(t).CmpNoError(err)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})
	ec384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	td.Require(t).CmpNoError(err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	td.Require(t).CmpNoError(err)

	sign := func(m jwt.SigningMethod, kid string, key any) string {
		tok := jwt.NewWithClaims(m, claims(t0))
		tok.Header["kid"] = kid
		raw, err := tok.SignedString(key)
		td.Require(t).CmpNoError(err)
		return raw
	}
	for name, raw := range map[string]string{
		"none":                     sign(jwt.SigningMethodNone, "rsa-1", jwt.UnsafeAllowNoneSignatureType),
		"HS256 keyed with PEM":     sign(jwt.SigningMethodHS256, "rsa-1", pemBytes),
		"HS256 keyed with DER":     sign(jwt.SigningMethodHS256, "rsa-1", pkix),
		"HS256 keyed with PKCS1":   sign(jwt.SigningMethodHS256, "rsa-1", x509.MarshalPKCS1PublicKey(rsaPub)),
		"HS512":                    sign(jwt.SigningMethodHS512, "rsa-1", pemBytes),
		"RS512 with the right key": sign(jwt.SigningMethodRS512, "rsa-1", rsaKey(t, 0)),
		"PS256 with the right key": sign(jwt.SigningMethodPS256, "rsa-1", rsaKey(t, 0)),
		"ES384":                    sign(jwt.SigningMethodES384, "ec-1", ec384),
		"EdDSA":                    sign(jwt.SigningMethodEdDSA, "ec-1", edKey),
		"ES256 naming an RSA key":  sign(jwt.SigningMethodES256, "rsa-1", es.key),
		"RS256 naming an EC key":   sign(jwt.SigningMethodRS256, "ec-1", rsaKey(t, 0)),
		"no alg":                   withHeader(t, rs.sign(t, claims(t0)), `{"kid":"rsa-1","typ":"JWT"}`),
		"alg not a string":         withHeader(t, rs.sign(t, claims(t0)), `{"alg":7,"kid":"rsa-1"}`),
		"alg unknown":              withHeader(t, rs.sign(t, claims(t0)), `{"alg":"XY999","kid":"rsa-1"}`),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := r.verify(raw)
			t.Log(err)
			td.CmpErrorIs(t, err, auth.ErrAlgorithm)
			td.CmpErrorIs(t, err, auth.ErrInvalid)
		})
	}
	td.Cmp(t, r.h.fetches.Load(), int32(1), "refused algorithms fetch nothing")
	td.Cmp(t, metricValue(t, r.set, `earshot_auth_tokens_total{result="algorithm"}`), 14.0)
}

// withHeader replaces the header of a compact token, keeping the rest.
func withHeader(t testing.TB, raw, header string) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	td.Require(t).Len(parts, 3)
	parts[0] = base64.RawURLEncoding.EncodeToString([]byte(header))
	return strings.Join(parts, ".")
}

func TestVerifyGarbage(t *testing.T) {
	rs := rsaSigner(t, "rsa-1", 0)
	r := newRig(t, jwksOf(t, rs), auth.Config{})
	valid := rs.sign(t, claims(t0))
	parts := strings.Split(valid, ".")
	other := claims(t0)
	other["sub"] = "admin"
	forged := strings.Split(rs.sign(t, other), ".")[1]
	padded := strings.Join([]string{parts[0] + "==", parts[1], parts[2]}, ".")
	for name, raw := range map[string]string{
		"empty":              "",
		"words":              "not a token",
		"dots":               "..",
		"one dot":            "a.b",
		"four parts":         valid + ".x",
		"short parts":        "a.b.c",
		"not json":           "eyJub3Q.eyJub3Q.c2ln",
		"bearer prefix":      "Bearer " + valid,
		"padded":             padded,
		"swapped payload":    parts[0] + "." + forged + "." + parts[2],
		"truncated sig":      valid[:len(valid)-4],
		"no signature":       parts[0] + "." + parts[1] + ".",
		"huge":               strings.Repeat("a", auth.MaxTokenBytes) + "." + valid,
		"binary":             "\x00\xff.\x01\x02.\x03",
		"kid not a string":   withHeader(t, valid, `{"alg":"RS256","kid":5}`),
		"header not object":  withHeader(t, valid, `[1,2]`),
		"header null":        withHeader(t, valid, `null`),
		"unicode everywhere": "ü.ö.ä",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := r.verify(raw)
			t.Log(err)
			td.CmpErrorIs(t, err, auth.ErrInvalid)
			td.CmpFalse(t, errorsIs(err, auth.ErrExpired))
			td.CmpFalse(t, errorsIs(err, auth.ErrAlgorithm))
			td.CmpFalse(t, strings.Contains(err.Error(), testSubject))
			if len(raw) > 8 {
				td.CmpFalse(t, strings.Contains(err.Error(), raw), "error text quotes the token")
			}
		})
	}
}

func TestErrorTextsNeverQuoteTokenOrSubject(t *testing.T) {
	rs := rsaSigner(t, "rsa-1", 0)
	r := newRig(t, jwksOf(t, rs), auth.Config{})
	for _, mutate := range []func(jwt.MapClaims){
		func(c jwt.MapClaims) { c["iss"] = "x" },
		func(c jwt.MapClaims) { c["exp"] = jwt.NewNumericDate(t0.Add(-time.Hour)) },
		func(c jwt.MapClaims) { c["nbf"] = jwt.NewNumericDate(t0.Add(time.Hour)) },
		func(c jwt.MapClaims) { c["sub"] = strings.Repeat(testSubject, 50) },
	} {
		c := claims(t0)
		mutate(c)
		raw := rs.sign(t, c)
		_, err := r.verify(raw)
		td.Require(t).CmpError(err)
		td.CmpFalse(t, strings.Contains(err.Error(), testSubject), err.Error())
		for _, p := range strings.Split(raw, ".") {
			td.CmpFalse(t, strings.Contains(err.Error(), p), err.Error())
		}
	}
}

func TestErrorSentinels(t *testing.T) {
	for _, err := range []error{auth.ErrUnknownKey, auth.ErrAlgorithm, auth.ErrNoKeys} {
		td.CmpErrorIs(t, err, auth.ErrInvalid)
	}
	td.CmpFalse(t, errorsIs(auth.ErrExpired, auth.ErrInvalid))
	td.CmpFalse(t, errorsIs(auth.ErrNoKeys, auth.ErrUnknownKey))
	for _, err := range []error{auth.ErrExpired, auth.ErrInvalid, auth.ErrUnknownKey, auth.ErrAlgorithm, auth.ErrNoKeys} {
		td.Cmp(t, err.Error(), strings.ToLower(err.Error()))
	}
}
