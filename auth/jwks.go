package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// Accepted signature algorithms.
const (
	algRS256 = "RS256"
	algES256 = "ES256"
)

// minRSABits is the smallest RSA modulus accepted in a key set.
const minRSABits = 2048

func allowedAlg(alg string) bool { return alg == algRS256 || alg == algES256 }

// key is one usable public key of the set.
type key struct {
	kid string
	alg string // algRS256 for *rsa.PublicKey, algES256 for a P-256 *ecdsa.PublicKey
	pub any
}

// keySet is an immutable snapshot of the usable keys. The zero value
// (and nil) holds none.
type keySet struct {
	all   []key
	byKid map[string][]key
}

func (s *keySet) len() int {
	if s == nil {
		return 0
	}
	return len(s.all)
}

// lookup picks what jwt should verify a token of alg with: the keys of
// that type named kid, or, when the token has no kid, every key of that
// type. Errors: ErrNoKeys (empty set), ErrUnknownKey (no such kid, or no
// key of the type), ErrAlgorithm (kid names only keys of another type).
func (s *keySet) lookup(alg, kid string, hasKid bool) (any, error) {
	if s.len() == 0 {
		return nil, ErrNoKeys
	}
	pool := s.all
	if hasKid {
		pool = s.byKid[kid]
		if len(pool) == 0 {
			return nil, ErrUnknownKey
		}
	}
	var ks jwt.VerificationKeySet
	for _, k := range pool {
		if k.alg == alg {
			ks.Keys = append(ks.Keys, k.pub)
		}
	}
	switch {
	case len(ks.Keys) == 1:
		return ks.Keys[0], nil
	case len(ks.Keys) > 1:
		return ks, nil
	case hasKid:
		return nil, ErrAlgorithm
	}
	return nil, ErrUnknownKey
}

// parseJWKS reads a JWKS document and keeps its usable keys: signature
// keys (`use` "sig" or unset) that are RSA of at least 2048 bits or ECDSA
// P-256, whose `alg`, when set, is the one their type implies. Keys it
// cannot parse (an unknown kty, say) are skipped, not fatal. skipped
// counts the keys left out. A document without any usable key is an
// error.
func parseJWKS(body []byte) (set *keySet, skipped int, err error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, 0, fmt.Errorf("jwks: %w", err)
	}
	set = &keySet{byKid: map[string][]key{}}
	for _, raw := range doc.Keys {
		var jwk jose.JSONWebKey
		if err := json.Unmarshal(raw, &jwk); err != nil {
			skipped++
			continue
		}
		k, ok := usableKey(jwk)
		if !ok {
			skipped++
			continue
		}
		set.all = append(set.all, k)
		set.byKid[k.kid] = append(set.byKid[k.kid], k)
	}
	if len(set.all) == 0 {
		return nil, skipped, fmt.Errorf("jwks: no usable keys (%d skipped)", skipped)
	}
	return set, skipped, nil
}

func usableKey(jwk jose.JSONWebKey) (key, bool) {
	if !jwk.Valid() || (jwk.Use != "" && jwk.Use != "sig") {
		return key{}, false
	}
	pub := jwk.Public() // drops private parts, should a set carry them
	k := key{kid: jwk.KeyID, pub: pub.Key}
	switch p := pub.Key.(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() < minRSABits {
			return key{}, false
		}
		k.alg = algRS256
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return key{}, false
		}
		k.alg = algES256
	default:
		return key{}, false
	}
	if jwk.Algorithm != "" && jwk.Algorithm != k.alg {
		return key{}, false
	}
	return k, true
}

// readLimited reads r up to MaxJWKSBytes; more is an error.
func readLimited(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > MaxJWKSBytes {
		return nil, fmt.Errorf("jwks larger than %d bytes", MaxJWKSBytes)
	}
	return body, nil
}

// readFile reads the JWKS file.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("jwks file: %w", err)
	}
	defer f.Close()
	body, err := readLimited(f)
	if err != nil {
		return nil, fmt.Errorf("jwks file: %w", err)
	}
	return body, nil
}

// fetchURL GETs the JWKS URL within timeout. maxAge is the response's
// Cache-Control max-age, or -1 when it has none.
func fetchURL(ctx context.Context, client *http.Client, url string, timeout time.Duration) (body []byte, maxAge time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
	if err != nil {
		return nil, -1, fmt.Errorf("jwks fetch: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, -1, fmt.Errorf("jwks fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, -1, fmt.Errorf("jwks fetch: status %d", resp.StatusCode)
	}
	body, err = readLimited(resp.Body)
	if err != nil {
		return nil, -1, fmt.Errorf("jwks fetch: %w", err)
	}
	return body, parseMaxAge(resp.Header.Values("Cache-Control")), nil
}

// parseMaxAge finds max-age in Cache-Control header values; -1 if absent
// or malformed.
func parseMaxAge(values []string) time.Duration {
	for _, v := range values {
		for d := range strings.SplitSeq(v, ",") {
			name, val, ok := strings.Cut(strings.TrimSpace(d), "=")
			if !ok || !strings.EqualFold(name, "max-age") {
				continue
			}
			secs, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
			if err != nil || secs < 0 {
				return -1
			}
			// Clamp before converting: a huge max-age must not overflow.
			return time.Duration(min(secs, int64(365*24*time.Hour/time.Second))) * time.Second
		}
	}
	return -1
}
