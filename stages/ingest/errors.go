package ingest

import "errors"

// Errors of the ingest stage. Decide with errors.Is.
var (
	// ErrUnsupportedFormat means the session's codec, or its pairing with
	// the sample rate, is one this build cannot decode: an unknown codec
	// name, a codec whose library is not compiled in, or a rate the codec
	// cannot produce. A client sending it is closed with 1003 (Omi's code
	// for unsupported data) before any upstream work.
	ErrUnsupportedFormat = errors.New("unsupported audio format")
	// ErrBadPacket means one packet could not be decoded (truncated,
	// corrupt or of the wrong kind). Run does not return it: it conceals
	// the packet, counts it and goes on.
	ErrBadPacket = errors.New("bad packet")
)
