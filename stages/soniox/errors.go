package soniox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"earshot/internal/upstreamerr"
	"earshot/stages"
	"earshot/stages/retry"
)

// Sentinel errors of package soniox. Decide with errors.Is.
var (
	// ErrInvalidConfig wraps every error New returns.
	ErrInvalidConfig = errors.New("invalid soniox config")
	// ErrInvalidStreamConfig means Dial got a StreamConfig it cannot send
	// (no sample rate, a language Soniox does not know). It wraps
	// stages.ErrPermanent: redialling the same config cannot help.
	ErrInvalidStreamConfig = fmt.Errorf("invalid stream config: %w", stages.ErrPermanent)
	// ErrUnknownControl means SendControl got a Control it does not know.
	// It wraps stages.ErrPermanent (a programming error).
	ErrUnknownControl = fmt.Errorf("unknown control message: %w", stages.ErrPermanent)
	// ErrClosed is returned by a Stream's methods after its Close.
	ErrClosed = errors.New("soniox stream closed")
	// ErrMalformed is wrapped (inside a retryable *stages.UpstreamError)
	// when the server sends a text frame that is not a JSON response.
	ErrMalformed = errors.New("malformed soniox response")
	// ErrResponse is wrapped by the *stages.UpstreamError that an error
	// response ({"error_code": N, "error_message": "..."}) turns into; it
	// tells an in-band error from a refused upgrade, which both carry the
	// code in HTTPStatus.
	ErrResponse = errors.New("soniox error response")
)

const (
	// maxErrorBody is how much of a refused upgrade's body is read.
	maxErrorBody = 4 << 10
	// codePrefix starts UpstreamError.Code for Soniox's numeric codes.
	codePrefix = "SONIOX-"
)

// responseError describes an error response. HTTPStatus holds the
// response's error_code when it is an HTTP-like status (400 to 599), so
// that stages.UpstreamError.Permanent classifies it: 400, 401, 402 and 403
// are permanent, 408, 429, 500, 503 (and any other) retryable. A 503
// "Cannot continue request" is an ordinary retryable end: the connector
// opens a new stream. Code is "SONIOX-<code>", Reason the message, bounded
// and scrubbed of key.
func responseError(code int, msg, key string) *stages.UpstreamError {
	ue := &stages.UpstreamError{
		Code:   codePrefix + strconv.Itoa(code),
		Reason: clientSafe(msg, key),
		Err:    ErrResponse,
	}
	if code >= 400 && code <= 599 {
		ue.HTTPStatus = code
	}
	if ue.Reason == "" {
		ue.Reason = "upstream error"
	}
	return ue
}

// refusedError describes a refused upgrade. It reads (bounded) and closes
// resp.Body; a JSON body's error_code and error_message are preferred to
// the status text.
func refusedError(resp *http.Response, key string) *stages.UpstreamError {
	var body struct {
		Code    codeNumber `json:"error_code"`
		Message string     `json:"error_message"`
	}
	if resp.Body != nil {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
		_ = json.Unmarshal(raw, &body) // best effort: bodies may be HTML or empty
	}
	ue := &stages.UpstreamError{
		HTTPStatus: resp.StatusCode,
		Reason:     clientSafe(body.Message, key),
		RetryAfter: retry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	if body.Code != 0 {
		ue.Code = codePrefix + strconv.Itoa(int(body.Code))
	}
	if ue.Reason == "" {
		ue.Reason = http.StatusText(resp.StatusCode)
	}
	return ue
}

// closeError describes a close frame other than an expected 1000: 1008 is
// permanent (stages.UpstreamError.Permanent), every other code retryable.
func closeError(code int, reason, key string) *stages.UpstreamError {
	reason = clientSafe(reason, key)
	if reason == "" {
		reason = "closed by upstream"
	}
	return &stages.UpstreamError{CloseCode: code, Reason: reason}
}

// clientSafe, unexpectedEOF and ctxError are internal/upstreamerr's, for
// this provider.
func clientSafe(s, key string) string { return upstreamerr.ClientSafe(s, key) }

func unexpectedEOF(err error) error { return upstreamerr.UnexpectedEOF(err) }

func ctxError(op string, err, cause error) error {
	return upstreamerr.CtxError("soniox", op, err, cause)
}
