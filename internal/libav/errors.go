package libav

import "errors"

var (
	// ErrUnavailable is wrapped by the constructors of a build without the
	// libcodecs tag or without cgo.
	ErrUnavailable = errors.New("not in this build (needs -tags libcodecs and cgo)")
	// ErrBadFrame is wrapped by Decode when libavcodec refuses a frame of
	// the stream; the error's text ends with FFmpeg's reason. The frame's
	// audio is missing from the output, and the decoder stays usable.
	ErrBadFrame = errors.New("bad frame")
	// ErrClosed is wrapped by the methods of a closed decoder.
	ErrClosed = errors.New("closed")
)
