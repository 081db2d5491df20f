package pipeline_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/pipeline"
	"earshot/stages/stagestest"
)

// refuse dials with a wrong key and returns the HTTP status of a refused
// upgrade, or 101 when the upgrade went through (to be closed 1008).
func refuse(t *testing.T, g *gateway) int {
	t.Helper()
	h := http.Header{"Authorization": {"Bearer nope"}}
	c, resp, err := websocket.Dial(context.Background(), g.base, &websocket.DialOptions{HTTPClient: g.client, HTTPHeader: h})
	if err != nil {
		td.Require(t).NotNil(resp, "dial error %v", err)
		return resp.StatusCode
	}
	defer c.CloseNow()
	code, _ := closeOf(t, c)
	td.Cmp(t, code, websocket.StatusPolicyViolation)
	return http.StatusSwitchingProtocols
}

// TestListenThrottlesRefusedHandshakesPerAddress: an address whose
// handshakes keep failing gets its burst of 1008s, then 429 before any
// upgrade until the rate gives it another try; each refusal is logged at
// debug only, with a summary at info at most every 10 s.
func TestListenThrottlesRefusedHandshakesPerAddress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &logBuf{}
		g := newGatewayWith(t, pipeline.Config{FailedHandshakeBurst: 3, FailedHandshakesPerSec: 1}, pipeline.Deps{
			Logger: slog.New(slog.NewTextHandler(log, nil)), // info and above
		}, true)
		var got []int
		for range 5 {
			got = append(got, refuse(t, g))
		}
		td.Cmp(t, got, []int{101, 101, 101, 429, 429})
		td.Cmp(t, stagestest.MetricValue(t, g.set, "earshot_listen_throttled_total"), 2.0)
		time.Sleep(time.Second)
		td.Cmp(t, refuse(t, g), 101, "one more try a second later")
		td.Cmp(t, refuse(t, g), 429)
		td.Cmp(t, strings.Count(log.String(), "listen refused"), 0, "no line per refusal at info")
		time.Sleep(10 * time.Second)
		td.Cmp(t, refuse(t, g), 101)
		td.Cmp(t, strings.Count(log.String(), "listen refused (bad or missing keys)"), 1)
		td.Cmp(t, log.String(), td.Contains("count=5"))

		// A good key from the same address is served while the address
		// is not throttled: only refusals count.
		c := g.dial(t, "", testKey)
		td.Cmp(t, statuses(t, c), []string{"initiating", "in_progress_conversations_processing", "stt_initiating"})
	})
}
