package pipeline

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strconv"
	"strings"

	"earshot/auth"
	"earshot/protocol"
)

// TokenVerifier verifies a signed bearer token and names its user
// (*auth.Verifier does). Verify must be safe for concurrent use and must
// not block long: it runs in the handshake. An error wrapping
// auth.ErrExpired closes the session with 4001, any other with 1008.
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (auth.Identity, error)
}

// principal is who a session runs for: a static key (key ≥ 0) or a
// signed-in user (signed). user is the user id the session belongs to:
// the token's subject, or with a static key the uid parameter the client
// claims (unauthenticated). userHash stands for it in logs.
type principal struct {
	key      int
	signed   bool
	user     string
	userHash string
}

// pusherUID is the uid the session's pusher connection names: a
// signed-in user's id; with a static key, what the client's uid
// parameter says (not authenticated), or "anonymous".
func (p principal) pusherUID(param string) string {
	switch {
	case p.signed && p.user != "":
		return p.user
	case param != "":
		return param
	default:
		return "anonymous"
	}
}

// limitKey is what per-key limits count the session under: its static
// key, or its signed-in user.
func (p principal) limitKey() string {
	if p.signed {
		return "user:" + p.userHash
	}
	return "key:" + strconv.Itoa(p.key)
}

// authenticate checks a bearer token: one of the static keys (compared
// in constant time), else, when the server verifies signed tokens and
// token looks like one, a signed token. Its errors are ErrBadAuth and
// ErrTokenExpired, whose texts are the client-facing close reasons.
func (s *Server) authenticate(ctx context.Context, token string) (principal, error) {
	if k, ok := s.keys.match(token); ok {
		return principal{key: k}, nil
	}
	if s.deps.Tokens == nil || !auth.LooksLikeJWT(token) {
		return principal{key: -1}, ErrBadAuth
	}
	id, err := s.deps.Tokens.Verify(ctx, token)
	switch {
	case errors.Is(err, auth.ErrExpired):
		return principal{key: -1}, ErrTokenExpired
	case err != nil:
		s.log.Debug("signed token refused", "err", err)
		return principal{key: -1}, ErrBadAuth
	}
	return principal{key: -1, signed: true, user: id.Subject, userHash: id.Hash()}, nil
}

// authCloseCode is the close code for an authentication error: 4001
// for an expired token (the app refreshes it and reconnects), else 1008.
func authCloseCode(err error) int {
	if errors.Is(err, ErrTokenExpired) {
		return protocol.CloseTokenExpired
	}
	return protocol.ClosePolicyViolation
}

// bearer returns the token of an Authorization header value of the form
// "Bearer <token>" (exactly two space-separated parts), or ErrNoAuthHeader
// or ErrBadAuth.
func bearer(header string) (string, error) {
	if header == "" {
		return "", ErrNoAuthHeader
	}
	parts := strings.Split(header, " ")
	if len(parts) != 2 || !strings.EqualFold(parts[0], "Bearer") || parts[1] == "" {
		return "", ErrBadAuth
	}
	return parts[1], nil
}

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

// match reports whether token is a configured key, and which (its index,
// for per-key limits).
func (k *keyring) match(token string) (int, bool) {
	d := sha256.Sum256([]byte(token))
	match, which := 0, -1
	for i := range k.digests {
		eq := subtle.ConstantTimeCompare(d[:], k.digests[i][:])
		match |= eq
		which = subtle.ConstantTimeSelect(eq, i, which)
	}
	return which, match == 1
}
