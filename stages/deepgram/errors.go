package deepgram

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"earshot/internal/upstreamerr"
	"earshot/stages"
	"earshot/stages/retry"
)

// Sentinel errors of package deepgram. Decide with errors.Is.
var (
	// ErrInvalidConfig wraps every error New returns.
	ErrInvalidConfig = errors.New("invalid deepgram config")
	// ErrInvalidStreamConfig means Dial got a StreamConfig it cannot send
	// (e.g. no sample rate). It wraps stages.ErrPermanent: redialling the
	// same config cannot help.
	ErrInvalidStreamConfig = fmt.Errorf("invalid stream config: %w", stages.ErrPermanent)
	// ErrUnknownControl means SendControl got a Control it does not know.
	// It wraps stages.ErrPermanent (a programming error).
	ErrUnknownControl = fmt.Errorf("unknown control message: %w", stages.ErrPermanent)
	// ErrClosed is returned by a Stream's methods after its Close.
	ErrClosed = errors.New("deepgram stream closed")
	// ErrMalformed is wrapped (inside a retryable *stages.UpstreamError)
	// when the server sends a frame that is not valid JSON or a Results
	// message of the wrong shape.
	ErrMalformed = errors.New("malformed deepgram message")
)

const (
	// maxErrorBody is how much of a refused upgrade's body is read.
	maxErrorBody = 4 << 10
)

// closeCodes are the Deepgram codes found in close reasons, upper case.
var closeCodes = []string{"NET-0001", "NET-0000", "DATA-0000"}

// refusedError describes a refused upgrade. It reads (bounded) and closes
// resp.Body. The body's err_code is preferred as Code; the dg-error header
// is used as Code when it looks like one, as Reason otherwise.
func refusedError(resp *http.Response, key string) *stages.UpstreamError {
	var body struct {
		ErrCode string `json:"err_code"`
		ErrMsg  string `json:"err_msg"`
	}
	if resp.Body != nil {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
		_ = json.Unmarshal(raw, &body) // best effort: bodies may be HTML or empty
	}
	code, reason := body.ErrCode, body.ErrMsg
	if h := resp.Header.Get("dg-error"); h != "" {
		switch {
		case code == "" && looksLikeCode(h):
			code = h
		case reason == "":
			reason = h
		}
	}
	if reason == "" {
		reason = http.StatusText(resp.StatusCode)
	}
	return &stages.UpstreamError{
		HTTPStatus: resp.StatusCode,
		Code:       clientSafe(code, key),
		Reason:     clientSafe(reason, key),
		RetryAfter: retry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
}

// closeError describes a close frame other than an expected 1000.
func closeError(code int, reason, key string) *stages.UpstreamError {
	upper := strings.ToUpper(reason)
	var dg string
	for _, c := range closeCodes {
		if strings.Contains(upper, c) || strings.Contains(upper, strings.ReplaceAll(c, "-", "")) {
			dg = c
			break
		}
	}
	reason = clientSafe(reason, key)
	if reason == "" {
		reason = "closed by upstream"
	}
	return &stages.UpstreamError{CloseCode: code, Code: dg, Reason: reason}
}

// looksLikeCode reports whether s is a short machine code such as
// INVALID_AUTH.
func looksLikeCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}

// clientSafe, unexpectedEOF and ctxError are internal/upstreamerr's, for
// this provider.
func clientSafe(s, key string) string { return upstreamerr.ClientSafe(s, key) }

func unexpectedEOF(err error) error { return upstreamerr.UnexpectedEOF(err) }

func ctxError(op string, err, cause error) error {
	return upstreamerr.CtxError("deepgram", op, err, cause)
}
