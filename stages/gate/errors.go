package gate

import "errors"

// Sentinel errors of the gate. Decide with errors.Is.
var (
	// ErrDetector means a gate's speech detector could not be made,
	// failed, panicked or returned a probability outside [0, 1]; the gate
	// then fails open (sends all audio for the rest of the session).
	ErrDetector = errors.New("speech detector failed")
	// ErrConfig means a Config is invalid (unknown mode, threshold
	// outside (0, 1)).
	ErrConfig = errors.New("invalid gate config")
)
