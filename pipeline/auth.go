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
// "Bearer <key>" (exactly two space-separated parts) and returns which
// configured key it is (its index, for per-key limits). It returns
// ErrNoAuthHeader or ErrBadAuth, whose texts are the client-facing close
// reasons.
func (k *keyring) check(header string) (int, error) {
	if header == "" {
		return -1, ErrNoAuthHeader
	}
	parts := strings.Split(header, " ")
	if len(parts) != 2 || !strings.EqualFold(parts[0], "Bearer") || parts[1] == "" {
		return -1, ErrBadAuth
	}
	d := sha256.Sum256([]byte(parts[1]))
	match, which := 0, -1
	for i := range k.digests {
		eq := subtle.ConstantTimeCompare(d[:], k.digests[i][:])
		match |= eq
		which = subtle.ConstantTimeSelect(eq, i, which)
	}
	if match != 1 {
		return -1, ErrBadAuth
	}
	return which, nil
}
