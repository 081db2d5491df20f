package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"

	"earshot/emulate"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/stages"
)

// silentRecognizer hears nothing, so the benchmark measures the audio path
// and not the emulator's recognizer.
type silentRecognizer struct{}

func (silentRecognizer) Accept([]byte) []stages.Word { return nil }
func (silentRecognizer) Flush() []stages.Word        { return nil }

// BenchmarkSessionAudioPath streams b.N 100 ms frames of 16 kHz PCM through
// one session (client → gateway → emulator) as fast as the path takes them,
// and waits until the emulator has counted every byte. Reports audio
// seconds moved per wall second.
func BenchmarkSessionAudioPath(b *testing.B) {
	ended := make(chan emulate.StreamSummary, 1)
	_, dgURL := testrig.StartEmulator(b, emulate.Config{
		Recognizer:  func(int) (emulate.Recognizer, error) { return silentRecognizer{}, nil },
		OnStreamEnd: func(s emulate.StreamSummary) { ended <- s },
	})
	_, url := testrig.StartGateway(b, dgURL, pipeline.Config{})
	ctx := context.Background()
	c := testrig.DialReady(b, url+"?sample_rate=16000&codec=pcm16").Conn
	go func() { // the client must read for control frames to be answered
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	}()
	frame := make([]byte, 3200)
	for i := range frame {
		frame[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if err := c.Write(ctx, websocket.MessageBinary, frame); err != nil {
			b.Fatal(err)
		}
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
	s := <-ended
	b.StopTimer()
	if want := int64(b.N * len(frame)); s.AudioBytes != want {
		b.Fatalf("emulator received %d bytes, want %d", s.AudioBytes, want)
	}
	b.ReportMetric(float64(b.N)*0.1/time.Since(start).Seconds(), "audio-s/s")
}
