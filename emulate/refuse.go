package emulate

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// refusal is a refused upgrade, answered like Deepgram: headers dg-error
// (the err_code) and dg-request-id, and a JSON body
// {"err_code","err_msg","request_id"}.
type refusal struct {
	status        int
	code, msg     string
	retryAfterSec int // > 0 adds Retry-After
}

// errorCode is Deepgram's err_code for an HTTP status.
func errorCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "Bad Request"
	case http.StatusUnauthorized:
		return "INVALID_AUTH"
	case http.StatusPaymentRequired:
		return "ASR_PAYMENT_REQUIRED"
	case http.StatusForbidden:
		return "INSUFFICIENT_PERMISSIONS"
	case http.StatusTooManyRequests:
		return "TOO_MANY_REQUESTS"
	case http.StatusServiceUnavailable:
		return "SERVICE_UNAVAILABLE"
	case http.StatusBadGateway:
		return "BAD_GATEWAY"
	case http.StatusGatewayTimeout:
		return "GATEWAY_TIMEOUT"
	}
	if status >= 500 {
		return "INTERNAL_SERVER_ERROR"
	}
	// Other 4xx: the status text in Deepgram's upper-snake style.
	return strings.ToUpper(strings.ReplaceAll(http.StatusText(status), " ", "_"))
}

// errorMessage is a human-readable err_msg for a status.
func errorMessage(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "Invalid credentials."
	case http.StatusPaymentRequired:
		return "Project does not have enough credits for an ASR request."
	case http.StatusForbidden:
		return "Insufficient permissions."
	case http.StatusTooManyRequests:
		return "Too many requests. Please try again later."
	}
	if status >= 500 {
		return "The service is temporarily unavailable. Please try again later."
	}
	return http.StatusText(status)
}

// faultRefusal is the refusal Faults.RefuseFirst injects.
func faultRefusal(f Faults) refusal {
	return refusal{
		status:        f.RefuseStatus,
		code:          errorCode(f.RefuseStatus),
		msg:           errorMessage(f.RefuseStatus),
		retryAfterSec: f.RetryAfterSec,
	}
}

// write sends the refusal. It never includes the client's credentials.
func (rf refusal) write(w http.ResponseWriter, requestID string) {
	body, err := json.Marshal(struct {
		Code      string `json:"err_code"`
		Msg       string `json:"err_msg"`
		RequestID string `json:"request_id"`
	}{rf.code, rf.msg, requestID})
	if err != nil { // cannot happen: strings only
		body = []byte(`{}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("dg-request-id", requestID)
	h.Set("dg-error", rf.code)
	if rf.retryAfterSec > 0 {
		h.Set("Retry-After", strconv.Itoa(rf.retryAfterSec))
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rf.status)
	_, _ = w.Write(body)
}

// authorized reports whether r carries key: "Authorization: Token <key>" or
// "Bearer <key>" (scheme case-insensitive), or the browser form
// "Sec-WebSocket-Protocol: token, <key>". The comparison takes constant
// time.
func authorized(r *http.Request, key string) bool {
	if scheme, cred, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " "); ok {
		if strings.EqualFold(scheme, "token") || strings.EqualFold(scheme, "bearer") {
			return equalKey(strings.TrimSpace(cred), key)
		}
		return false
	}
	var protos []string
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			protos = append(protos, strings.TrimSpace(p))
		}
	}
	return len(protos) >= 2 && strings.EqualFold(protos[0], "token") && equalKey(protos[1], key)
}

func equalKey(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// newRequestID returns a random UUID (version 4), the form of Deepgram's
// request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
