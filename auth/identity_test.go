package auth_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/auth"
)

func TestIdentityHash(t *testing.T) {
	id := auth.Identity{Subject: testSubject, Issuer: testIssuer}
	td.Cmp(t, id.Hash(), td.Re(`^[0-9a-f]{16}$`))
	td.Cmp(t, id.Hash(), auth.Identity{Subject: testSubject, Issuer: testIssuer, ExpiresAt: t0}.Hash(), "stable, exp ignored")
	td.Cmp(t, id.Hash(), td.Not(auth.Identity{Subject: testSubject, Issuer: "https://other"}.Hash()))
	td.Cmp(t, id.Hash(), td.Not(auth.Identity{Subject: "user-4712", Issuer: testIssuer}.Hash()))
	// The separator matters: ("ab","c") and ("a","bc") differ.
	td.Cmp(t, auth.Identity{Issuer: "ab", Subject: "c"}.Hash(), td.Not(auth.Identity{Issuer: "a", Subject: "bc"}.Hash()))
	td.Cmp(t, auth.Identity{Issuer: "iss", Subject: "sub"}.Hash(), "79c9fc822bd52e08", "hex of sha256(\"iss\\x00sub\")[:8]")
}

func TestLooksLikeJWT(t *testing.T) {
	rs := rsaSigner(t, "rsa-1", 0)
	td.CmpTrue(t, LooksLikeJWT(rs.sign(t, claims(t0))))
	for s, want := range map[string]bool{
		"aGVh.cGF5.c2ln":     true,
		"a-_9.B.c":           true,
		"":                   false,
		"..":                 false,
		"a.b.":               false,
		".b.c":               false,
		"a..c":               false,
		"a.b":                false,
		"a.b.c.d":            false,
		"a=.b.c":             false,
		"a+/.b.c":            false,
		"a.b c.d":            false,
		"sk_live_0123456789": false,
		"ü.b.c":              false,
	} {
		td.Cmp(t, LooksLikeJWT(s), want, "%q", s)
	}
}

// LooksLikeJWT is auth.LooksLikeJWT, short.
var LooksLikeJWT = auth.LooksLikeJWT
