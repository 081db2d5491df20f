//go:build !libcodecs || !cgo

package liblc3

import "fmt"

// Available reports whether the codec was compiled in (build tag
// libcodecs, with cgo). In this build it was not.
const Available = false

// Encoder is the LC3 encoder. In this build (without the libcodecs tag or
// without cgo) NewEncoder never returns one; the methods exist so that
// code using the package compiles either way.
type Encoder struct{}

// NewEncoder always fails in this build with an error wrapping
// ErrUnavailable.
func NewEncoder(int, int) (*Encoder, error) { return nil, unavailable() }

// FrameSamples returns 0.
func (*Encoder) FrameSamples() int { return 0 }

// Encode fails with an error wrapping ErrUnavailable.
func (*Encoder) Encode([]int16, []byte) error { return unavailable() }

// Close does nothing.
func (*Encoder) Close() {}

// Decoder is the LC3 decoder. In this build NewDecoder never returns one.
type Decoder struct{}

// NewDecoder always fails in this build with an error wrapping
// ErrUnavailable.
func NewDecoder(int, int) (*Decoder, error) { return nil, unavailable() }

// FrameSamples returns 0.
func (*Decoder) FrameSamples() int { return 0 }

// Decode fails with an error wrapping ErrUnavailable.
func (*Decoder) Decode([]byte, []int16) (bool, error) { return false, unavailable() }

// Close does nothing.
func (*Decoder) Close() {}

func unavailable() error { return fmt.Errorf("liblc3: %w", ErrUnavailable) }
