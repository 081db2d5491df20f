//go:build !libcodecs || !cgo

package libopus

import "fmt"

// Available reports whether the codec was compiled in (build tag
// libcodecs, with cgo). In this build it was not.
const Available = false

// Encoder is the Opus encoder. In this build (without the libcodecs tag
// or without cgo) NewEncoder never returns one; the methods exist so that
// code using the package compiles either way.
type Encoder struct{}

// NewEncoder always fails in this build with an error wrapping
// ErrUnavailable.
func NewEncoder(int, Application) (*Encoder, error) { return nil, unavailable() }

// SetBitrate fails with an error wrapping ErrUnavailable.
func (*Encoder) SetBitrate(int) error { return unavailable() }

// SetComplexity fails with an error wrapping ErrUnavailable.
func (*Encoder) SetComplexity(int) error { return unavailable() }

// SetVBR fails with an error wrapping ErrUnavailable.
func (*Encoder) SetVBR(bool) error { return unavailable() }

// SetBandwidth fails with an error wrapping ErrUnavailable.
func (*Encoder) SetBandwidth(int) error { return unavailable() }

// SetSignal fails with an error wrapping ErrUnavailable.
func (*Encoder) SetSignal(int) error { return unavailable() }

// Encode fails with an error wrapping ErrUnavailable.
func (*Encoder) Encode([]int16, []byte) (int, error) { return 0, unavailable() }

// Close does nothing.
func (*Encoder) Close() {}

// Decoder is the Opus decoder. In this build NewDecoder never returns
// one.
type Decoder struct{}

// NewDecoder always fails in this build with an error wrapping
// ErrUnavailable.
func NewDecoder(int) (*Decoder, error) { return nil, unavailable() }

// Decode fails with an error wrapping ErrUnavailable.
func (*Decoder) Decode([]byte, []int16) (int, error) { return 0, unavailable() }

// Close does nothing.
func (*Decoder) Close() {}

func unavailable() error { return fmt.Errorf("libopus: %w", ErrUnavailable) }
