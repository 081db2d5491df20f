//go:build pocketsphinx

package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/testfix"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/protocol"
	"earshot/stages/connector"
	"earshot/stages/local"
	"earshot/stages/retry"
)

// TestLocalAdmission: with every decoder of the local recognizer in use, a
// new session is told to come back later (close 1013 with the reason)
// after its connect attempts, instead of being accepted and falling
// behind; the session holding the decoder is not disturbed, and once it
// ends its decoder serves the next session. Refusals do not open the
// circuit breaker (the recognizer is busy, not down).
func TestLocalAdmission(t *testing.T) {
	p := testfix.LocalProvider(t, local.Config{PoolSize: 1})
	_, url := testrig.StartGatewayProvider(t, p, pipeline.Config{
		Connector: connector.Config{Backoff: retry.BackoffConfig{BaseMs: 20, CapMs: 50, Attempts: 2}},
		Breaker:   retry.BreakerConfig{FailureThreshold: 1},
	}, pipeline.Deps{})
	base := url
	url += "?language=en&sample_rate=16000&codec=pcm16"

	holder := testrig.DialReady(t, url)
	for range 3 { // more refusals than the breaker's threshold
		code, reason, failed := refusedSession(t, url)
		td.Cmp(t, code, websocket.StatusCode(protocol.CloseTryAgainLater))
		td.Cmp(t, reason, protocol.CloseReasonSTTBusy)
		td.Cmp(t, failed, td.Re(`(?i)capacity`), "stt_failed says why")
	}
	td.Cmp(t, testrig.Metric(t, base, `earshot_upstream_dial_failures_total{reason="http_429"}`), 6.0,
		"two attempts per refused session")

	// The holder still transcribes: audio in, its session unaffected.
	td.CmpNoError(t, holder.Stream(testrig.Signal(16000, 500), 16000, 0))
	td.CmpNoError(t, holder.Conn.Close(websocket.StatusNormalClosure, "done"))

	// Its decoder is back in the pool (the session's end may take the
	// close timeout): the next session gets it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, _, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{
			HTTPHeader: http.Header{"Authorization": {"Bearer " + testrig.ClientKey}},
		})
		td.Require(t).CmpNoError(err)
		if ready(t, c) {
			_ = c.Close(websocket.StatusNormalClosure, "done")
			return
		}
		td.Require(t).True(time.Now().Before(deadline), "a session got the freed decoder within 10 s")
	}
}

// refusedSession opens a session that cannot get a decoder and returns the
// close code and reason it was sent.
func refusedSession(t *testing.T, url string) (code websocket.StatusCode, reason, failed string) {
	t.Helper()
	c, _, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + testrig.ClientKey}},
	})
	td.Require(t).CmpNoError(err)
	defer c.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		var b []byte
		if _, b, err = c.Read(ctx); err != nil {
			break
		}
		if _, ev, derr := protocol.Decode(b); derr == nil && ev.Status == protocol.StatusSTTFailed {
			failed = ev.StatusText
		}
	}
	var ce websocket.CloseError
	td.Require(t).True(errors.As(err, &ce), "closed by the gateway: %v", err)
	return ce.Code, ce.Reason, failed
}

// ready reads c until the gateway reports the upstream ready (true) or
// closes the session (false).
func ready(t *testing.T, c *websocket.Conn) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return false
		}
		if bytes.Contains(b, []byte(`"status":"ready"`)) {
			return true
		}
	}
}
