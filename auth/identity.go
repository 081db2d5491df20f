package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// Identity is who a verified token names.
type Identity struct {
	// Subject is the token's `sub`: non-empty, at most MaxSubjectBytes
	// bytes. It identifies a user; never log it (log Hash instead).
	Subject string
	// Issuer is the token's `iss` (the configured issuer).
	Issuer string
	// ExpiresAt is the token's `exp`, to the second, in UTC.
	ExpiresAt time.Time
}

// Hash is a short stable pseudonym of the identity for logs: the hex of
// the first 8 bytes of SHA-256(Issuer + "\x00" + Subject), 16 characters.
// The same user of the same issuer always gets the same Hash.
func (id Identity) Hash() string {
	sum := sha256.Sum256([]byte(id.Issuer + "\x00" + id.Subject))
	return hex.EncodeToString(sum[:8])
}

// LooksLikeJWT reports whether s has the shape of a compact JWS: three
// non-empty parts of unpadded base64url characters (A-Z a-z 0-9 - _)
// separated by two dots. It verifies nothing; it lets a caller tell a
// bearer token from a static API key.
func LooksLikeJWT(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.IndexFunc(p, notBase64URL) >= 0 {
			return false
		}
	}
	return true
}

func notBase64URL(r rune) bool {
	switch {
	case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
		return false
	}
	return true
}
