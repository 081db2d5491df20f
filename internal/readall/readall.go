// Package readall reads a whole message (a WebSocket message reader,
// any io.Reader up to io.EOF) into a caller's buffer, so that readers on
// hot paths reuse their buffers where io.ReadAll allocates and grows a new
// one each time.
package readall

import "io"

// Append reads r to io.EOF, appending to b, and returns the extended
// slice, grown (by append's rule) only when b's capacity runs out. On an
// error other than io.EOF it returns what was read so far with the error.
func Append(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}
