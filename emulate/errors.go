package emulate

import "errors"

// Sentinel errors of package emulate. Decide with errors.Is; the errors
// returned by this package wrap them with details.
var (
	// ErrBadConfig means a Config or Faults field is out of range.
	ErrBadConfig = errors.New("emulate: bad config")
	// ErrBadParams means a client's query parameters cannot be served
	// (the upgrade is refused with HTTP 400).
	ErrBadParams = errors.New("emulate: bad query parameters")
	// ErrBadControl means a text frame is not a control message this
	// emulator understands (it is ignored, as Deepgram ignores it).
	ErrBadControl = errors.New("emulate: bad control message")
	// ErrServerClosed means the Server was closed; new upgrades are
	// refused with HTTP 503.
	ErrServerClosed = errors.New("emulate: server closed")
)
