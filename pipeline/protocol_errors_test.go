package pipeline_test

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/rawws"
	"earshot/pipeline"
	"earshot/stages/stagestest"
)

// TestListenAnswersAnUnmaskedFrameWith1002: a client frame without the
// mask RFC 6455 requires is a protocol error: the session is closed with
// 1002, and counted so.
func TestListenAnswersAnUnmaskedFrameWith1002(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateway(t, pipeline.Config{}, true)
		nc, err := g.dialRaw(t.Context())
		td.Require(t).CmpNoError(err)
		defer nc.Close()
		c, err := rawws.Handshake(nc, "gateway", "/v4/listen", http.Header{"Authorization": {"Bearer " + testKey}})
		td.Require(t).CmpNoError(err)
		(<-g.p.Dials).Accept(stagestest.NewStream(64))
		td.CmpNoError(t, c.WriteFrame(rawws.OpBinary, make([]byte, 640), true), "a proper frame first")
		td.CmpNoError(t, c.WriteFrame(rawws.OpBinary, make([]byte, 640), false))
		code, err := c.CloseCode()
		td.CmpNoError(t, err)
		td.Cmp(t, code, int(websocket.StatusProtocolError))
		_ = nc.Close()
		time.Sleep(3 * time.Second) // the upstream's close timeout (2 s) passes
		synctest.Wait()
		td.Cmp(t, stagestest.MetricValue(t, g.set, `earshot_sessions_closed_total{code="1002"}`), 1.0)
	})
}
