package protocol

// WebSocket close codes the gateway ends a session with, and what each
// means to a client.
const (
	// CloseNormal: the session ended normally (the client closed, or the
	// server finished after the client's audio ended).
	CloseNormal = 1000
	// CloseGoingAway: no frame from the client for the inactivity timeout
	// (90 s).
	CloseGoingAway = 1001
	// CloseUnsupportedData: the session's audio format (codec, or codec
	// and sample rate) is one the server cannot decode, refused before any
	// upstream dial; the reason names it (Omi's code for a bad format).
	CloseUnsupportedData = 1003
	// ClosePolicyViolation: a bad key or parameter, refused before any
	// upstream dial; the reason names it. Retrying the same request fails
	// the same way.
	ClosePolicyViolation = 1008
	// CloseMessageTooBig: a client frame exceeded the read limit.
	CloseMessageTooBig = 1009
	// CloseInternalError: the speech-to-text upstream failed for good
	// (after an stt_failed event, reason CloseReasonSTTUnavailable), or
	// another internal failure.
	CloseInternalError = 1011
	// CloseServiceRestart: the server is draining; reconnect elsewhere.
	CloseServiceRestart = 1012
	// CloseTryAgainLater: no capacity for the session now (the upstream's
	// or the client's own outbox overflowed); the same request may
	// succeed later.
	CloseTryAgainLater = 1013
	// CloseTokenExpired: the client's signed token has expired; the Omi
	// app refreshes its token and reconnects (its auth recovery acts on
	// this code). Sent before any upstream dial.
	CloseTokenExpired = 4001
)

// Close reasons the Omi app acts on.
const (
	// CloseReasonSTTUnavailable is the reason of the 1011 that follows an
	// stt_failed event (Omi's).
	CloseReasonSTTUnavailable = "transcription_service_unavailable"
	// CloseReasonSTTBusy is the reason of the 1013 that follows an
	// stt_failed event when the upstream had no room for the stream.
	CloseReasonSTTBusy = "transcription_service_busy"
)

// MaxCloseReasonBytes is the longest close reason a close frame carries
// (RFC 6455: 125 bytes of payload less the 2-byte code).
const MaxCloseReasonBytes = 123
