package pipeline_test

import (
	"bytes"
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/chunks"
	"earshot/pipeline"
	"earshot/stages/stagestest"
)

// TestReplayRingMemoryOnMetrics: audio no final covered sits in the pool's
// chunks, /metrics says how many bytes, and the session ending gives them
// all back.
func TestReplayRingMemoryOnMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := chunks.New(16384, 1<<20)
		g := newGatewayWith(t, pipeline.Config{}, pipeline.Deps{Chunks: pool}, true)
		scrape := func() string {
			var b bytes.Buffer
			g.set.WritePrometheus(&b)
			return b.String()
		}
		c := g.dial(t, "language=en&sample_rate=16000&codec=pcm16", testKey)
		statuses(t, c)
		up := stagestest.NewStream(64)
		(<-g.p.Dials).Accept(up)
		td.Cmp(t, next(t, c).Status, "ready")
		td.Cmp(t, scrape(), td.Contains("earshot_replay_ring_bytes 0\n"))

		frame := make([]byte, 3200)
		for range 10 { // 1 s, no final: 5 frames to a chunk
			td.CmpNoError(t, c.Write(context.Background(), websocket.MessageBinary, frame))
			<-up.Audio
		}
		synctest.Wait()
		td.Cmp(t, scrape(), td.All(
			td.Contains("earshot_replay_ring_bytes 32768\n"),
			td.Contains("earshot_replay_pool_resident_bytes 32768\n"),
		))

		go endOnCloseStream(up)
		td.CmpNoError(t, c.Close(websocket.StatusNormalClosure, ""))
		for g.srv.Sessions() > 0 {
			time.Sleep(10 * time.Millisecond) // the bubble's clock
		}
		td.Cmp(t, scrape(), td.All(
			td.Contains("earshot_replay_ring_bytes 0\n"),
			td.Contains("earshot_replay_pool_resident_bytes 32768\n"), // kept for reuse
		))
		td.Cmp(t, pool.Stats().InUse, int64(0))
	})
}
