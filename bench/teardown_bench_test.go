package bench_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"

	"earshot/emulate"
	"earshot/internal/testrig"
	"earshot/pipeline"
)

// BenchmarkSessionTeardown measures how long a session takes to end after
// its client vanishes mid-stream (no closing handshake): from the client's
// TCP close to the gateway having ended the upstream stream (CloseStream
// answered by the emulator) and every stage of the session returned.
// Reports the median and the 99th percentile over b.N sessions.
func BenchmarkSessionTeardown(b *testing.B) {
	_, dgURL := testrig.StartEmulator(b, emulate.Config{
		Recognizer: func(int) (emulate.Recognizer, error) { return silentRecognizer{}, nil },
	})
	srv, url := testrig.StartGateway(b, dgURL, pipeline.Config{})
	ctx := context.Background()
	frame := make([]byte, 3200)
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		c := testrig.DialReady(b, url+"?sample_rate=16000&codec=pcm16").Conn
		for range 5 {
			if err := c.Write(ctx, websocket.MessageBinary, frame); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		left := time.Now()
		_ = c.CloseNow()
		for srv.Sessions() > 0 {
			time.Sleep(50 * time.Microsecond)
		}
		took = append(took, time.Since(left))
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}
