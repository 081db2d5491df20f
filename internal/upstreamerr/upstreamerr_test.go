package upstreamerr_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/upstreamerr"
	"earshot/stages"
)

func TestClientSafe(t *testing.T) {
	key := "secret-key-123"
	td.Cmp(t, upstreamerr.ClientSafe(" bad key secret-key-123\n\x00here ", key), "bad key [redacted]  here")
	td.Cmp(t, upstreamerr.ClientSafe("short k", "k"), "short k", "keys under 8 bytes are not scrubbed")
	long := upstreamerr.ClientSafe(strings.Repeat("é", 200), key)
	td.Cmp(t, len(long), td.Lte(upstreamerr.MaxReasonBytes))
	td.CmpTrue(t, strings.HasSuffix(long, "é"), "cut on a rune boundary")
}

func TestUnexpectedEOF(t *testing.T) {
	err := upstreamerr.UnexpectedEOF(io.EOF)
	td.CmpFalse(t, errors.Is(err, io.EOF))
	td.CmpTrue(t, errors.Is(err, io.ErrUnexpectedEOF))
	other := errors.New("x")
	td.Cmp(t, upstreamerr.UnexpectedEOF(other), other)
}

func TestDialError(t *testing.T) {
	refused := func(resp *http.Response) error { return &stages.UpstreamError{HTTPStatus: resp.StatusCode} }
	err := upstreamerr.DialError(context.Background(), "p", &http.Response{StatusCode: http.StatusUnauthorized}, errors.New("x"), time.Second, refused)
	td.Cmp(t, stages.Classify(err), stages.ClassPermanent)
	err = upstreamerr.DialError(context.Background(), "p", nil, context.DeadlineExceeded, 1500*time.Millisecond, refused)
	td.Cmp(t, stages.Reason(err), "handshake timed out after 1.5s")
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("client left")
	cancel(cause)
	err = upstreamerr.DialError(ctx, "p", nil, errors.New("x"), time.Second, refused)
	td.CmpTrue(t, errors.Is(err, context.Canceled))
	td.CmpTrue(t, errors.Is(err, cause))
	td.Cmp(t, stages.Classify(err), stages.ClassAborted)
}
