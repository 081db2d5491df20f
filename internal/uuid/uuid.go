// Package uuid makes random (version 4) UUIDs for session and segment IDs.
package uuid

import (
	"crypto/rand"
	"encoding/hex"
)

// New returns a random version-4 UUID (RFC 9562) in its canonical
// 36-character form, lower-case hex with dashes:
// xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx, where Y is one of 8, 9, a, b.
//
// The 122 random bits come from crypto/rand, so IDs are unguessable and
// collisions are not a practical concern. It is safe for concurrent use.
func New() string {
	var b [16]byte
	// crypto/rand.Read never returns an error (since Go 1.24 it crashes the
	// program instead of returning short reads).
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant 10 (RFC 9562)

	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}
