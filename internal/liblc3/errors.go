package liblc3

import "errors"

var (
	// ErrUnavailable is wrapped by the constructors of a build without the
	// libcodecs tag or without cgo.
	ErrUnavailable = errors.New("not in this build (needs -tags libcodecs and cgo)")
	// ErrBadFrame is wrapped by Decode when a frame's size is outside 20 to
	// 400 bytes (pcm is then left alone), or when liblc3 finds its
	// bitstream invalid (pcm then holds concealed audio). The decoder stays
	// usable either way.
	ErrBadFrame = errors.New("bad frame")
	// ErrClosed is wrapped by the methods of a closed Encoder or Decoder.
	ErrClosed = errors.New("closed")
)
