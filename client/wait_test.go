package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/client"
	"earshot/internal/testrig"
)

// lateSegments serves /v4/listen like a gateway working through a backlog:
// once the client's audio has arrived it sends n segment updates, one
// every gap (n < 0: until the client leaves).
func lateSegments(t *testing.T, audioBytes, n int, gap time.Duration) string {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		for got := 0; got < audioBytes; {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			got += len(b)
		}
		gone := make(chan struct{})
		go func() { // answers the client's close
			defer close(gone)
			for {
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
			}
		}()
		defer func() { <-gone }() // the client ends the session
		for i := 0; n < 0 || i < n; i++ {
			time.Sleep(gap)
			seg, _ := json.Marshal([]client.Segment{{ID: fmt.Sprintf("s%d", i), Text: fmt.Sprintf("w%d", i), End: 0.1}})
			select {
			case <-gone:
				return
			default:
			}
			if c.Write(ctx, websocket.MessageText, seg) != nil {
				return
			}
		}
	}))
	t.Cleanup(hs.Close)
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/v4/listen"
}

func TestWaitFinalStartsOverOnEachUpdate(t *testing.T) {
	audio := testrig.Signal(16000, 300)
	cfg := client.Config{
		URL: lateSegments(t, len(audio), 5, 200*time.Millisecond), Key: testrig.ClientKey,
		SampleRate: 16000, Codec: "pcm16", Audio: audio, Mode: client.ModePodcast,
		WaitFinal: 500 * time.Millisecond,
	}
	rep, err := client.Run(context.Background(), cfg)
	td.CmpNoError(t, err)
	s := rep.Sessions[0]
	td.Cmp(t, s.Updates, 5, "every update, though the last came 1 s after the audio (WaitFinal 0.5 s)")
	td.Cmp(t, s.Transcript, "w0 w1 w2 w3 w4")
	td.Cmp(t, s.HeldS, td.Gte(1.5), "closed once 0.5 s passed without an update")
	td.Cmp(t, s.ClosedBy, client.ClosedByClient)
}

func TestWaitFinalIsBounded(t *testing.T) {
	audio := testrig.Signal(16000, 300)
	cfg := client.Config{
		URL: lateSegments(t, len(audio), -1, 20*time.Millisecond), Key: testrig.ClientKey,
		SampleRate: 16000, Codec: "pcm16", Audio: audio, Mode: client.ModePodcast,
		WaitFinal: 100 * time.Millisecond,
	}
	start := time.Now()
	rep, err := client.Run(context.Background(), cfg)
	td.CmpNoError(t, err)
	td.Cmp(t, rep.Sessions[0].ClosedBy, client.ClosedByClient)
	td.Cmp(t, rep.Sessions[0].Updates, td.Gt(10), "updates kept coming")
	td.Cmp(t, time.Since(start), td.Lt(client.WaitFinalRounds*100*time.Millisecond+5*time.Second),
		"the session closed: segments that never stop do not hold it forever")
}
