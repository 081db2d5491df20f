package stages

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the stage contracts, shared by every stage and
// provider. Decide with errors.Is; each stage package has its own errors.go
// for the errors only it returns.
var (
	// ErrPermanent marks an upstream failure that retrying cannot fix
	// (bad parameters, bad credentials, no credit, close 1008).
	ErrPermanent = errors.New("permanent upstream failure")
	// ErrRetryable marks an upstream failure that may pass (rate limit,
	// server error, abnormal close).
	ErrRetryable = errors.New("retryable upstream failure")
	// ErrAborted means a connect was abandoned because the session ended
	// (the client left). It is not a failure to report.
	ErrAborted = errors.New("connect aborted: session ended")
	// ErrCapacity means the upstream has no room for another stream now
	// (e.g. every local decoder is busy). Retryable; a connector that
	// gives up on it reports FailureCapacity (the client may try again
	// later), and it never opens a circuit breaker.
	ErrCapacity = errors.New("upstream at capacity")
)

// UpstreamError describes a failed dial or a stream that ended abnormally.
// It wraps ErrPermanent or ErrRetryable, so errors.Is decides the class.
type UpstreamError struct {
	// HTTPStatus is the status of a refused upgrade (0 if the upgrade
	// succeeded or never got an answer).
	HTTPStatus int
	// CloseCode is the WebSocket close code of a stream that ended (0 if
	// none; -1 is never stored).
	CloseCode int
	// Code is the provider's machine-readable error code (Deepgram's
	// dg-error / err_code, or a close reason such as "NET-0001").
	Code string
	// Reason is a short human-readable reason, safe to show a client (it
	// never contains a key or token).
	Reason string
	// RetryAfter is the delay the provider asked for (0 if none).
	RetryAfter time.Duration
	// Err is the underlying error, if any.
	Err error
}

// Error implements error.
func (e *UpstreamError) Error() string {
	var where string
	switch {
	case e.HTTPStatus != 0:
		where = fmt.Sprintf("upstream refused upgrade: http %d", e.HTTPStatus)
	case e.CloseCode != 0:
		where = fmt.Sprintf("upstream closed: code %d", e.CloseCode)
	default:
		where = "upstream failed"
	}
	if e.Code != "" {
		where += " " + e.Code
	}
	if e.Reason != "" {
		where += ": " + e.Reason
	}
	if e.Err != nil {
		where += ": " + e.Err.Error()
	}
	return where
}

// Unwrap exposes the class sentinel and the underlying error.
func (e *UpstreamError) Unwrap() []error {
	class := ErrRetryable
	if e.Permanent() {
		class = ErrPermanent
	}
	if e.Err != nil {
		return []error{class, e.Err}
	}
	return []error{class}
}

// Permanent reports whether retrying cannot help: HTTP 400, 401, 402, 403
// and close 1008 are permanent; everything else (429, 5xx, 1006, 1011,
// network errors) is retryable.
func (e *UpstreamError) Permanent() bool {
	switch e.HTTPStatus {
	case 400, 401, 402, 403:
		return true
	}
	return e.CloseCode == 1008
}

// Class is the retry class of an error.
type Class int

const (
	// ClassRetryable errors may pass: retry with backoff.
	ClassRetryable Class = iota
	// ClassPermanent errors will not pass: give up and tell the client.
	ClassPermanent
	// ClassAborted means the session ended: stop quietly.
	ClassAborted
)

// String names the class, for metric labels and logs.
func (c Class) String() string {
	switch c {
	case ClassPermanent:
		return "permanent"
	case ClassAborted:
		return "aborted"
	default:
		return "retryable"
	}
}

// Classify decides what to do about err. Context cancellation and
// ErrAborted are ClassAborted; ErrPermanent (including a permanent
// *UpstreamError) is ClassPermanent; anything else, including plain network
// errors, is ClassRetryable.
func Classify(err error) Class {
	switch {
	case errors.Is(err, ErrAborted), errors.Is(err, context.Canceled):
		return ClassAborted
	case errors.Is(err, ErrPermanent):
		return ClassPermanent
	default:
		return ClassRetryable
	}
}

// RetryAfter returns the delay an upstream asked for, if any.
func RetryAfter(err error) (time.Duration, bool) {
	var ue *UpstreamError
	if errors.As(err, &ue) && ue.RetryAfter > 0 {
		return ue.RetryAfter, true
	}
	return 0, false
}

// Reason is a short, client-safe description of err (for service_status
// texts, close reasons and logs): an *UpstreamError's code and reason, or
// "upstream unavailable". It never contains a key or token.
func Reason(err error) string {
	var ue *UpstreamError
	if errors.As(err, &ue) {
		switch {
		case ue.Reason != "" && ue.Code != "":
			return ue.Code + ": " + ue.Reason
		case ue.Reason != "":
			return ue.Reason
		case ue.Code != "":
			return ue.Code
		case ue.HTTPStatus != 0 || ue.CloseCode != 0:
			return ue.Error()
		}
	}
	return "upstream unavailable"
}

// Aborted returns an error wrapping ErrAborted and ctx's cause: a connect
// given up because the session ended.
func Aborted(ctx context.Context) error {
	return fmt.Errorf("%w: %w", ErrAborted, context.Cause(ctx))
}
