package e2e_test

import (
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/protocol"
	"earshot/stages/connector"
	"earshot/stages/retry"
)

// wantConversation is the segment stream the conversation fixture must
// produce: the two quiet bursts merge (same speaker, gap under 3 s), the
// loud one is another speaker, and times count from the first speech.
func wantConversation() td.TestDeep {
	seg := func(text string, speaker int, start, end float64) td.TestDeep {
		return td.SStruct(protocol.Segment{
			Text: text, SpeakerID: speaker, Speaker: "SPEAKER_" + string(rune('0'+speaker)),
			Translations: []protocol.Translation{}, STTProvider: "deepgram",
		}, td.StructFields{
			"ID":    td.Re(`^[0-9a-f-]{36}$`),
			"Start": td.N(start, 0.011),
			"End":   td.N(end, 0.011),
		})
	}
	return td.Bag(
		seg("t500 t1500", 0, 0, 1.4),
		seg("t3000", 1, 2.5, 2.9),
		seg("t4000", 0, 3.5, 3.8),
	)
}

func TestGatewayThroughEmulatorOverTCP(t *testing.T) {
	ended := make(chan emulate.StreamSummary, 4)
	_, dgURL := startEmulator(t, emulate.Config{OnStreamEnd: func(s emulate.StreamSummary) { ended <- s }})
	_, url := startGateway(t, dgURL, pipeline.Config{})

	c := dialClient(t, url+"?language=en&sample_rate=16000&codec=pcm16")
	c.ReadUntil(t, 10*time.Second, func(c *client) bool { return len(c.Statuses) == 4 })
	td.Cmp(t, c.Statuses, []string{"initiating", "in_progress_conversations_processing", "stt_initiating", "ready"})

	td.CmpNoError(t, c.Stream(conversation(16000), 16000, 0))
	c.ReadUntil(t, 20*time.Second, func(c *client) bool { return c.HasText("t4000") })
	td.Cmp(t, c.Transcript(), wantConversation())
	checkGolden(t, "conversation", c.Transcript())

	td.CmpNoError(t, c.Conn.Close(websocket.StatusNormalClosure, "done"))
	select {
	case s := <-ended:
		td.Cmp(t, s.End, "close_stream", "the gateway ended the upstream stream properly")
		td.Cmp(t, s.AudioBytes, int64(len(conversation(16000))), "every byte reached the upstream")
		td.Cmp(t, s.Params.Get("sample_rate"), "16000")
		td.Cmp(t, s.Params.Get("encoding"), "linear16")
		td.Cmp(t, s.Params.Get("model"), "nova-3")
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream stream did not end")
	}
}

// TestClientDisconnectEndsUpstreamWithin1s leaves mid-stream without a
// closing handshake: the upstream stream must be ended properly
// (CloseStream) within 1 s, and every goroutine of the session must exit.
func TestClientDisconnectEndsUpstreamWithin1s(t *testing.T) {
	ended := make(chan emulate.StreamSummary, 4)
	_, dgURL := startEmulator(t, emulate.Config{OnStreamEnd: func(s emulate.StreamSummary) { ended <- s }})
	srv, url := startGateway(t, dgURL, pipeline.Config{})
	baseline := runtime.NumGoroutine()

	c := dialClient(t, url+"?sample_rate=16000&codec=pcm16")
	c.ReadUntil(t, 10*time.Second, func(c *client) bool { return len(c.Statuses) == 4 })
	td.CmpNoError(t, c.Stream(conversation(16000)[:32000], 16000, 0)) // 1 s, mid-word
	td.Cmp(t, srv.Sessions(), 1)

	left := time.Now()
	_ = c.Conn.CloseNow()
	select {
	case s := <-ended:
		td.Cmp(t, time.Since(left), td.Lt(time.Second))
		td.Cmp(t, s.End, "close_stream")
		td.CmpTrue(t, s.CloseStream)
	case <-time.After(2 * time.Second):
		t.Fatal("the upstream stream was not ended within 1 s")
	}
	deadline := time.Now().Add(5 * time.Second)
	for (srv.Sessions() > 0 || runtime.NumGoroutine() > baseline) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	td.Cmp(t, srv.Sessions(), 0)
	td.Cmp(t, runtime.NumGoroutine(), td.Lte(baseline), "every goroutine of the session exited")
}

// TestUpstreamRefusalIsRetriedThenServed: the emulator refuses the first
// two upgrades with 503; the connector retries and the session is served.
func TestUpstreamRefusalIsRetriedThenServed(t *testing.T) {
	emu, dgURL := startEmulator(t, emulate.Config{Faults: emulate.Faults{RefuseFirst: 2, RefuseStatus: 503}})
	_, url := startGateway(t, dgURL, pipeline.Config{Connector: connector.Config{
		Backoff: retry.BackoffConfig{BaseMs: 20, CapMs: 100, Attempts: 3},
	}})
	c := dialClient(t, url+"?sample_rate=16000&codec=pcm16")
	c.ReadUntil(t, 10*time.Second, func(c *client) bool { return len(c.Statuses) == 4 })
	td.Cmp(t, c.Statuses[3], "ready")
	td.Cmp(t, emu.Stats(), td.Struct(emulate.Stats{UpgradeAttempts: 3, Refused: 2, Accepted: 1}, nil))
	td.Cmp(t, testrig.Metric(t, url, `earshot_upstream_dial_failures_total{reason="http_503"}`), 2.0)
	td.Cmp(t, testrig.Metric(t, url, `earshot_upstream_connects_total{outcome="ok"}`), 1.0)
}

// TestUpstreamBadKeyIsNotRetried: a 401 from the upstream closes the
// client with 1011 and a reason, after exactly one dial.
func TestUpstreamBadKeyIsNotRetried(t *testing.T) {
	emu, dgURL := startEmulator(t, emulate.Config{Faults: emulate.Faults{RefuseFirst: 100, RefuseStatus: 401}})
	_, url := startGateway(t, dgURL, pipeline.Config{})
	c := dialClient(t, url)
	_, _, err := func() (websocket.MessageType, []byte, error) {
		for {
			typ, b, err := c.Conn.Read(t.Context())
			if err != nil {
				return typ, b, err
			}
		}
	}()
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusInternalError)
	td.Cmp(t, emu.Stats().UpgradeAttempts, int64(1))
}

// TestBadClientKeyNeverReachesTheUpstream: a refused client costs the
// upstream nothing: the emulator sees no connection at all.
func TestBadClientKeyNeverReachesTheUpstream(t *testing.T) {
	emu, dgURL := startEmulator(t, emulate.Config{})
	_, url := startGateway(t, dgURL, pipeline.Config{})
	for _, header := range []http.Header{{}, {"Authorization": {"Bearer wrong"}}} {
		c, _, err := websocket.Dial(t.Context(), url+"?sample_rate=16000", &websocket.DialOptions{HTTPHeader: header})
		td.Require(t).CmpNoError(err)
		_, _, err = c.Read(t.Context())
		td.Cmp(t, websocket.CloseStatus(err), websocket.StatusPolicyViolation)
		_ = c.CloseNow()
	}
	td.Cmp(t, emu.Stats().UpgradeAttempts, int64(0))
}
