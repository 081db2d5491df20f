package libopus

import "errors"

var (
	// ErrUnavailable is wrapped by the constructors of a build without the
	// libcodecs tag or without cgo.
	ErrUnavailable = errors.New("not in this build (needs -tags libcodecs and cgo)")
	// ErrBadPacket is wrapped by Decode when libopus rejects a packet as
	// corrupted (OPUS_INVALID_PACKET); the error's text ends with
	// libopus's own description. The decoder stays usable: conceal the
	// lost audio with a Decode of a nil packet if the timing matters.
	ErrBadPacket = errors.New("bad packet")
	// ErrClosed is wrapped by the methods of a closed Encoder or Decoder.
	ErrClosed = errors.New("closed")
)
