package testrig_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/internal/testrig"
)

// TestStartSonioxEmulator: the URL is Soniox's path, UpstreamKey is
// required as a Bearer token, and a stream ends with "finished".
func TestStartSonioxEmulator(t *testing.T) {
	emu, u := testrig.StartSonioxEmulator(t, emulate.Config{})
	td.Cmp(t, u, td.Re(`^ws://127\.0\.0\.1:\d+/transcribe-websocket$`))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	_, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer nope"}}})
	td.CmpError(t, err)
	if td.Cmp(t, resp, td.NotNil()) {
		td.Cmp(t, resp.StatusCode, http.StatusUnauthorized)
	}

	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + testrig.UpstreamKey}},
	})
	td.Require(t).CmpNoError(err)
	defer c.CloseNow()
	start := `{"model": "stt-rt-v4", "audio_format": "pcm_s16le", "sample_rate": 16000, "num_channels": 1}`
	td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageText, []byte(start)))
	td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageBinary, nil))
	_, b, err := c.Read(ctx)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, string(b), td.Contains(`"finished":true`))
	_, _, err = c.Read(ctx)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
	td.Cmp(t, emu.Stats(), td.SStruct(emulate.Stats{UpgradeAttempts: 2, Refused: 1, Accepted: 1}, td.StructFields{"Active": td.Between(int64(0), int64(1))}))
}
