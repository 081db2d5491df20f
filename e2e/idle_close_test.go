package e2e_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/internal/testfix"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/stages/gate"
	"earshot/stages/silero"
	"earshot/stages/soniox"
)

// idleRun is what one session through Soniox's emulator gave: each
// segment's start, the stream seconds Soniox would bill, and the wall
// time from sending the second clip's first frame to its first segment.
type idleRun struct {
	starts     []float64
	streamSec  float64
	secondWord time.Duration
}

// TestSonioxIdleClose: with the gate active, two clips 8 s apart streamed
// at real time through Soniox's emulator, once with the streams kept open
// and once with --idle-close-ms soniox=1000: the same segments at the
// same times, fewer stream seconds billed with the idle close, and the
// second clip's first-word latency, which the reopening dial adds to,
// logged for both.
func TestSonioxIdleClose(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 20 s at real time, twice")
	}
	m, err := silero.Load(testfix.VADModel(t))
	td.Require(t).CmpNoError(err)
	clips := testrig.Clips16k(t, testfix.SynthDir(t), nil)
	conv, _ := testrig.JoinClips(clips[:2], []int{1000, 8000, 1000}, gateNoiseAmp, gateNoiseSeed)
	_, sxURL := testrig.StartSonioxEmulator(t, emulate.Config{})

	run := func(t *testing.T, idleMs int) idleRun {
		sx, err := soniox.New(soniox.Config{URL: sxURL, APIKey: testrig.UpstreamKey})
		td.Require(t).CmpNoError(err)
		srv, url := testrig.StartGatewayProvider(t, sx, pipeline.Config{
			Gate:        gate.Config{Mode: gate.Active},
			IdleCloseMs: map[string]int{"soniox": idleMs},
		}, pipeline.Deps{NewDetector: silero.Detectors(m)})
		c := testrig.DialReady(t, url+"?sample_rate=16000&codec=pcm16")
		second := conv.Clips[1].Start * 2
		var sentSecond atomic.Int64 // unix ns
		go func() {
			for off := 0; off < len(conv.PCM); off += 3200 {
				if off <= second && second < off+3200 {
					sentSecond.Store(time.Now().UnixNano())
				}
				if c.Conn.Write(context.Background(), websocket.MessageBinary, conv.PCM[off:min(off+3200, len(conv.PCM))]) != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		secondSec := float64(conv.Clips[1].Start-conv.Clips[0].Start) / testrig.ConversationRateHz
		var r idleRun
		c.ReadUntil(t, time.Minute, func(c *testrig.Client) bool {
			for _, s := range c.Transcript() {
				if s.Start >= secondSec-0.5 && r.secondWord == 0 {
					r.secondWord = time.Since(time.Unix(0, sentSecond.Load()))
				}
			}
			return r.secondWord > 0
		})
		td.CmpNoError(t, c.Drain(2*time.Second))
		for _, s := range c.Transcript() {
			r.starts = append(r.starts, s.Start)
		}
		td.CmpNoError(t, c.Conn.Close(websocket.StatusNormalClosure, ""))
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for srv.Sessions() > 0 { // the session's end, for the stream seconds
			<-tick.C
		}
		r.streamSec = testrig.Metric(t, url, `earshot_upstream_stream_seconds_total{provider="soniox"}`)
		return r
	}
	// Both at once: the comparison in one sitting, in half the time.
	var open, closing idleRun
	t.Run("both", func(t *testing.T) {
		t.Run("kept open", func(t *testing.T) {
			t.Parallel()
			open = run(t, 0)
		})
		t.Run("idle close", func(t *testing.T) {
			t.Parallel()
			closing = run(t, 1000)
		})
	})
	if t.Failed() {
		return
	}
	td.Cmp(t, len(closing.starts), len(open.starts), "as many segments")
	for i := range min(len(open.starts), len(closing.starts)) {
		td.Cmp(t, closing.starts[i], td.N(open.starts[i], 0.05), "segment %d at the same time", i)
	}
	td.Cmp(t, closing.streamSec, td.Lt(open.streamSec), "fewer stream seconds billed")
	t.Logf("stream seconds: %.1f kept open, %.1f with the idle close; second clip's first word after %v kept open, %v with the idle close (the reopening dial)",
		open.streamSec, closing.streamSec, open.secondWord.Round(time.Millisecond), closing.secondWord.Round(time.Millisecond))
}
