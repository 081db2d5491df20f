package hostile_test

import (
	"testing"
	"time"

	"github.com/coder/websocket"

	"earshot/internal/rawws"
)

// TestCloseCodesAndLostAudioAreCounted: the close code a session ends
// with is the one that ended it (the client's 1001 or 4000, the server's
// 1009 for a frame past the read limit, 1002 for an unmasked frame), and a
// client that leaves while its session reconnects is told nothing but is
// counted as having lost the audio the gateway held for it.
func TestCloseCodesAndLostAudioAreCounted(t *testing.T) {
	up := startUpstream(t)
	g := startGateway(t, up, 0)
	url := g.listenURL("language=en&sample_rate=16000&codec=pcm16")
	ready := func() *session {
		s, err := open(ctxFor(t, 10*time.Second), url, clientKey)
		if err != nil || !s.waitReady(10*time.Second) {
			t.Fatal("session not ready", err)
		}
		return s
	}
	ended := 0
	lastCode := func() string {
		ended++
		if !waitFor(10*time.Second, func() bool { return g.sessionsEnded() >= ended }) {
			return "(did not end)"
		}
		return g.endedLines()[ended-1]["close_code"]
	}

	s := ready()
	_ = s.conn.Close(websocket.StatusGoingAway, "")
	check(t, lastCode(), "1001", "the client's 1001")
	s = ready()
	_ = s.conn.Close(4000, "app")
	check(t, lastCode(), "4000", "the client's 4000")

	s = ready()
	_ = s.send(make([]byte, 70_000))
	check(t, s.closeCode(10*time.Second), websocket.StatusMessageTooBig, "a frame past the read limit: 1009")
	check(t, lastCode(), "1009", "recorded as 1009")

	rc := g.rawListen(t, nil, "language=en&sample_rate=16000&codec=pcm16")
	_ = rc.WriteFrame(rawws.OpBinary, make([]byte, 3200), false)
	_ = rc.SetReadDeadline(time.Now().Add(10 * time.Second))
	code, _ := rc.CloseCode()
	check(t, code, 1002, "an unmasked frame: 1002")
	_ = rc.Close()
	check(t, lastCode(), "1002", "recorded as 1002")

	s = ready()
	up.stop() // the session now reconnects, holding its audio
	w := word(16000)
	for range 3 {
		_ = s.send(w)
	}
	time.Sleep(500 * time.Millisecond)
	_ = s.conn.Close(websocket.StatusNormalClosure, "")
	lastCode()
	lost := g.endedLines()[ended-1].float("lost_seconds")
	t.Logf("measured: close codes recorded %v; a client that left while reconnecting with 3 s held: lost_seconds=%.3f",
		func() []string {
			var cs []string
			for _, e := range g.endedLines() {
				cs = append(cs, e["close_code"])
			}
			return cs
		}(), lost)
	check(t, lost >= 2.9, true, "its held audio counted as lost")
}
