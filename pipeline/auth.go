package pipeline

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// keyring checks client keys in constant time: every configured key is
// compared (as a SHA-256 digest, so lengths leak nothing) whatever matched.
type keyring struct {
	digests [][sha256.Size]byte
}

func newKeyring(keys []string) *keyring {
	k := &keyring{}
	for _, key := range keys {
		if key = strings.TrimSpace(key); key != "" {
			k.digests = append(k.digests, sha256.Sum256([]byte(key)))
		}
	}
	return k
}

// check validates an Authorization header value of the form
// "Bearer <key>" (exactly two space-separated parts). It returns
// ErrNoAuthHeader or ErrBadAuth, whose texts are the client-facing close
// reasons.
func (k *keyring) check(header string) error {
	if header == "" {
		return ErrNoAuthHeader
	}
	parts := strings.Split(header, " ")
	if len(parts) != 2 || !strings.EqualFold(parts[0], "Bearer") || parts[1] == "" {
		return ErrBadAuth
	}
	d := sha256.Sum256([]byte(parts[1]))
	match := 0
	for i := range k.digests {
		match |= subtle.ConstantTimeCompare(d[:], k.digests[i][:])
	}
	if match != 1 {
		return ErrBadAuth
	}
	return nil
}
