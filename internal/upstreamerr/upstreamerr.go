// Package upstreamerr holds what the WebSocket providers (stages/deepgram,
// stages/soniox) share in turning their failures into the stages error
// contract: client-safe reasons with the API key scrubbed, errors that
// never read as a normal end (io.EOF), context errors with their cause,
// and a failed dial mapped onto *stages.UpstreamError. Providers may not
// import each other; both import this.
package upstreamerr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"earshot/stages"
)

const (
	// MaxReasonBytes bounds a client-safe reason.
	MaxReasonBytes = 160
	// MinScrubbedKey is the shortest API key scrubbed from upstream text
	// (shorter ones are not real keys and would mangle the text).
	MinScrubbedKey = 8
)

// ClientSafe makes an upstream-provided string fit for a client: the API
// key removed, valid UTF-8, no control characters, trimmed and bounded to
// MaxReasonBytes.
func ClientSafe(s, key string) string {
	if len(key) >= MinScrubbedKey && strings.Contains(s, key) {
		s = strings.ReplaceAll(s, key, "[redacted]")
	}
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > MaxReasonBytes {
		cut := MaxReasonBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// UnexpectedEOF keeps err's text but makes sure the result does not match
// io.EOF, which callers read as a normal end of stream.
func UnexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w (%s)", io.ErrUnexpectedEOF, err.Error())
	}
	return err
}

// CtxError wraps ctx's error and, if different, its cause, so that
// errors.Is(err, context.Canceled) holds after a cancellation; provider
// and op name where it happened.
func CtxError(provider, op string, err, cause error) error {
	if cause != nil && !errors.Is(cause, err) {
		return fmt.Errorf("%s %s: %w: %w", provider, op, err, cause)
	}
	return fmt.Errorf("%s %s: %w", provider, op, err)
}

// DialError maps a failed websocket.Dial of provider onto the stages
// contract: ctx's error when ctx ended (the body closed), refused(resp)
// for an upgrade the server answered with another status (refused owns
// resp's body), else a retryable *stages.UpstreamError ("connect failed",
// or the handshake timing out after timeout).
func DialError(ctx context.Context, provider string, resp *http.Response, err error, timeout time.Duration,
	refused func(*http.Response) error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close()
		}
		return CtxError(provider, "dial", ctxErr, context.Cause(ctx))
	}
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		return refused(resp)
	}
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	reason := "connect failed"
	if errors.Is(err, context.DeadlineExceeded) {
		reason = "handshake timed out after " + timeout.Round(time.Millisecond).String()
	}
	return &stages.UpstreamError{Reason: reason, Err: UnexpectedEOF(err)}
}
