package hostile_test

import (
	"net/http"
	"testing"
	"time"
)

// TestWrongKeyFlood: one address tries wrong keys as fast as it can. The
// gateway must throttle it (429 after a burst) and log the refusals as a
// summary, not a line each.
func TestWrongKeyFlood(t *testing.T) {
	n := scale(2000, 20000)
	up := startUpstream(t)
	g := startGateway(t, up, 0)
	c := &http.Client{Timeout: 5 * time.Second}
	codes := map[int]int{}
	start := time.Now()
	for range n {
		req, _ := http.NewRequest(http.MethodGet, "http://"+g.addr+"/v4/listen?language=en", nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		req.Header.Set("Authorization", "Bearer wrong-key")
		resp, err := c.Do(req)
		if err != nil {
			codes[0]++
			continue
		}
		_ = resp.Body.Close()
		codes[resp.StatusCode]++
	}
	took := time.Since(start)
	time.Sleep(200 * time.Millisecond)
	lines := len(g.lines("level=INFO")) + len(g.lines("level=WARN"))
	t.Logf("measured: %d wrong-key handshakes in %v (%.0f/s): answers %v; %d INFO/WARN log lines in all",
		n, took.Round(time.Millisecond), float64(n)/took.Seconds(), codes, lines)
	check(t, codes[http.StatusTooManyRequests] > n/2, true, "throttled with 429")
	check(t, lines < 20, true, "a summary, not a line per refusal")
}
