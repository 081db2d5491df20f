//go:build !libcodecs || !cgo

package libav

import "fmt"

// Available reports whether the decoder was compiled in (build tag
// libcodecs, with cgo). In this build it was not.
const Available = false

// AACDecoder is the AAC decoder. In this build (without the libcodecs tag
// or without cgo) NewAACDecoder never returns one; the methods exist so
// that code using the package compiles either way.
type AACDecoder struct{}

// NewAACDecoder always fails in this build with an error wrapping
// ErrUnavailable.
func NewAACDecoder(int) (*AACDecoder, error) {
	return nil, fmt.Errorf("libav: %w", ErrUnavailable)
}

// Decode returns pcm and an error wrapping ErrUnavailable.
func (*AACDecoder) Decode(_ []byte, pcm []int16) ([]int16, error) {
	return pcm, fmt.Errorf("libav: %w", ErrUnavailable)
}

// Close does nothing.
func (*AACDecoder) Close() {}
