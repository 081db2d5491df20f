package stagestest

import "encoding/binary"

// PCM returns n 16-bit little-endian samples whose values count up from
// first (wrapping at 65536), so that a test can tell which audio arrived
// where.
func PCM(first, n int) []byte {
	b := make([]byte, 2*n)
	for i := range n {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(first+i))
	}
	return b
}
