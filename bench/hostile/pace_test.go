package hostile_test

import (
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestFastSenderIsStopped: one session sends hundreds of seconds of audio
// as fast as the connection takes it. What reaches the (paid) upstream
// must stay near the pace limit (1.5× real time after a 30 s burst), and
// the session is closed with 1008.
func TestFastSenderIsStopped(t *testing.T) {
	audioS := scale(400, 4000)
	up := startUpstream(t)
	g := startGateway(t, up, 0)
	s, err := open(ctxFor(t, 10*time.Second), g.listenURL("language=en&sample_rate=16000&codec=pcm16"), clientKey)
	if err != nil || !s.waitReady(10*time.Second) {
		t.Fatal("session not ready", err)
	}
	w := word(16000)
	start := time.Now()
	sent := 0
	for sent < audioS && s.send(w) == nil {
		sent++
	}
	took := time.Since(start)
	code := s.closeCode(10 * time.Second)
	_ = s.conn.CloseNow()
	var upstreamS float64
	if waitFor(10*time.Second, func() bool { return g.sessionsEnded() == 1 }) {
		upstreamS = g.endedLines()[0].float("sent_seconds")
	}
	t.Logf("measured: a client sent %d s of audio in %v; %.1f s reached the upstream; close code %v",
		sent, took.Round(time.Millisecond), upstreamS, code)
	check(t, code, websocket.StatusPolicyViolation, "closed for its pace")
	check(t, upstreamS <= 30+1.5*took.Seconds()+1, true, "the upstream got no more than the burst and the pace")
}
