//go:build pocketsphinx

package bench_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	streamclient "earshot/client"
	"earshot/internal/testfix"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/stages"
	"earshot/stages/local"
)

// demoClip is fixtures/speech-synth/demo-16k.wav as mono 16 kHz PCM.
func demoClip(b *testing.B) []byte {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join(testfix.SynthDir(b), "demo-16k.wav"))
	td.Require(b).CmpNoError(err)
	w, err := streamclient.ParseWAV(raw)
	td.Require(b).CmpNoError(err)
	return streamclient.Prepare(w, 16000)
}

// cpuNow is the process's user+system CPU time, in seconds.
func cpuNow() float64 { return snapProc().cpu.Seconds() }

// BenchmarkLocalCPU: CPU seconds per audio second of the embedded
// recognizer on the demo conversation (26 s, a third of it pauses),
// decoded directly ("direct") and streamed through the gateway as fast as
// it takes it ("gateway": the in-process client, the session's stages and
// the decoder), in one run so that the two compare on the same machine
// state. Process CPU (user+system) over the audio decoded.
//
//	go test -tags pocketsphinx -run '^$' -bench LocalCPU -benchtime 5x -count 3 ./bench/
func BenchmarkLocalCPU(b *testing.B) {
	pcm := demoClip(b)
	audioS := float64(len(pcm)/2) / 16000
	report := func(b *testing.B, cpu0 float64, wall0 time.Time) {
		total := audioS * float64(b.N)
		b.ReportMetric((cpuNow()-cpu0)/total, "cpu-s/audio-s")
		b.ReportMetric(total/time.Since(wall0).Seconds(), "x-realtime")
		b.ReportMetric(0, "ns/op")
	}

	b.Run("direct", func(b *testing.B) {
		p := testfix.LocalProvider(b, local.Config{PoolSize: 1})
		ctx := context.Background()
		cpu0, wall0 := cpuNow(), time.Now()
		for b.Loop() {
			s, err := p.Dial(ctx, stages.StreamConfig{SampleRateHz: 16000, Channels: 1, Language: "en"})
			td.Require(b).CmpNoError(err)
			for off := 0; off < len(pcm); off += 3200 {
				td.Require(b).CmpNoError(s.SendAudio(ctx, pcm[off:min(off+3200, len(pcm))]))
			}
			td.Require(b).CmpNoError(s.SendControl(ctx, stages.ControlCloseStream))
			for {
				if _, err := s.Recv(ctx); err != nil {
					break
				}
			}
			_ = s.Close()
		}
		report(b, cpu0, wall0)
	})

	b.Run("gateway", func(b *testing.B) {
		p := testfix.LocalProvider(b, local.Config{PoolSize: 1})
		ended := make(chan pipeline.SessionSummary, 1)
		_, url := testrig.StartGatewayProvider(b, p, pipeline.Config{}, pipeline.Deps{
			OnSessionEnd: func(s pipeline.SessionSummary) { ended <- s },
		})
		url += "?language=en&sample_rate=16000&codec=pcm16"
		cpu0, wall0 := cpuNow(), time.Now()
		for b.Loop() {
			c := testrig.DialReady(b, url)
			td.Require(b).CmpNoError(c.Stream(pcm, 16000, 0))
			_ = c.Conn.Close(websocket.StatusNormalClosure, "done")
			sum := <-ended
			td.Require(b).Cmp(sum.CaptureSeconds, td.N(audioS, 0.001), "the whole clip went through")
		}
		report(b, cpu0, wall0)
	})
}
