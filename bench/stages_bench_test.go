package bench_test

// Per-stage micro-benchmarks (bench/README.md, "Per-stage
// micro-benchmarks"): each runs one stage's Run loop in its own
// goroutines, as a session does, and counts one op per frame or update
// from the stage's input channel to its output. BenchmarkGate (fake
// detector) and BenchmarkSegmenter are in their own files.

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/VictoriaMetrics/metrics"

	"earshot/client"
	"earshot/internal/testfix"
	"earshot/internal/testrig"
	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/fanout"
	"earshot/stages/gate"
	"earshot/stages/ingest"
	"earshot/stages/silero"
	"earshot/stages/stagestest"
)

// benchDepth is the depth of the channels between stages: a session's
// default (pipeline.DefaultChannelDepth).
const benchDepth = 32

// framesPerSecond is the number of 100 ms frames in one audio-second.
const framesPerSecond = 10

// reportPerAudioSecond adds the time per second of audio to a benchmark
// whose op is one 100 ms frame.
func reportPerAudioSecond(b *testing.B) {
	b.Helper()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)*framesPerSecond/1e3, "µs/audio-s")
}

// discard discards everything on ch until it is closed, then closes the
// returned channel.
func discard[T any](ch <-chan T) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range ch {
		}
	}()
	return done
}

// BenchmarkIngest measures decoding one client frame into Audio: 100 ms of
// pcm16 at 16 kHz (3,200 bytes) or pcm8 at 8 kHz (1,600 bytes), passed on
// without a copy; pcm16-odd sends 3,201-byte frames, so every other frame
// carries a half sample and is copied.
func BenchmarkIngest(b *testing.B) {
	for _, bc := range []struct {
		name       string
		codec      ingest.Codec
		rateHz     int
		frameBytes int
	}{
		{"pcm16", ingest.CodecPCM16, 16000, 3200},
		{"pcm8", ingest.CodecPCM8, 8000, 1600},
		{"pcm16-odd", ingest.CodecPCM16, 16000, 3201},
	} {
		b.Run(bc.name, func(b *testing.B) {
			frame := make([]byte, bc.frameBytes)
			for i := range frame {
				frame[i] = byte(i)
			}
			g := ingest.New(ingest.Config{Codec: bc.codec, SampleRateHz: bc.rateHz}, nil)
			in, out := make(chan []byte, benchDepth), make(chan stages.Audio, benchDepth)
			drained := discard(out)
			done := make(chan error, 1)
			go func() { done <- g.Run(context.Background(), in, out) }()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				in <- frame
			}
			close(in)
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			<-drained
			reportPerAudioSecond(b)
		})
	}
}

// gatePausesMs are the pauses of the e2e gate measurements' synthetic
// conversation (e2e/gate_clock_test.go): from 0.6 to 20 s, so that the
// conversation is at least half silence.
var gatePausesMs = []int{3000, 600, 8000, 1000, 12000, 2000, 15000, 800, 20000, 5000}

// BenchmarkGateSilero measures the active gate with the real Silero
// detector, per 100 ms frame, on the e2e gate measurements' conversation:
// the clips of fixtures/speech-synth joined by gatePausesMs of quiet
// noise (117 s, 53% of it pauses), at 16 kHz and resampled to
// 8 kHz. The detector runs on every window, silence included; sent-% is
// the share of the audio the gate let through.
func BenchmarkGateSilero(b *testing.B) {
	m, err := silero.Load(testfix.VADModel(b))
	if err != nil {
		b.Fatal(err)
	}
	conv, _ := testrig.JoinClips(testrig.Clips16k(b, testfix.SynthDir(b), nil), gatePausesMs, 50, 5)
	wav := &client.WAV{Format: client.FormatPCM, SampleRate: testrig.ConversationRateHz, Channels: 1,
		BitsPerSample: 16, Data: conv.PCM}
	for _, rateHz := range []int{16000, 8000} {
		b.Run(strconv.Itoa(rateHz/1000)+"k", func(b *testing.B) {
			pcm := client.Prepare(wav, rateHz)
			frameBytes := 2 * rateHz / framesPerSecond
			var frames [][]byte // whole frames only
			for at := 0; at+frameBytes <= len(pcm); at += frameBytes {
				frames = append(frames, pcm[at:at+frameBytes])
			}
			var gateLog bytes.Buffer
			g := gate.New(gate.Config{Mode: gate.Active}, rateHz, gate.Deps{
				NewDetector: silero.Detectors(m), Metrics: gate.NewMetrics(metrics.NewSet()),
				Logger: slog.New(slog.NewTextHandler(&gateLog, nil)),
			})
			in, out := make(chan stages.Audio, benchDepth), make(chan stages.Audio, benchDepth)
			drained := discard(out)
			done := make(chan error, 1)
			go func() { done <- g.Run(context.Background(), in, out) }()
			b.ReportAllocs()
			b.ResetTimer()
			var start int64
			for i := range b.N {
				in <- stages.Audio{PCM: frames[i%len(frames)], Start: start, SampleRateHz: rateHz}
				start += int64(frameBytes / 2)
			}
			close(in)
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			<-drained
			reportPerAudioSecond(b)
			st := g.Stats()
			if st.FailedOpen {
				b.Fatalf("the gate failed open: %s", &gateLog)
			}
			b.ReportMetric(100*float64(st.Sent)/float64(st.Captured), "sent-%")
		})
	}
}

// sinkStream is an upstream stream that takes audio instantly and keeps
// nothing (stagestest.Stream copies every payload for the test to read,
// which would add its own allocation to each frame). It closes reached
// when want frames were sent. Only the connector's goroutine calls
// SendAudio.
type sinkStream struct {
	*stagestest.Stream
	want, n int
	reached chan struct{}
}

func (s *sinkStream) SendAudio(context.Context, []byte) error {
	s.n++
	if s.n == s.want {
		close(s.reached)
	}
	return nil
}

// BenchmarkConnectorSend measures the connector's send path: a 100 ms
// frame of 16 kHz audio from its input channel to the stream's SendAudio,
// through the replay ring, the capture clock and the KeepAlive and pause
// timers. No result comes back, so the replay ring is at its 30 s bound
// and evicts a frame for every frame pushed (with results, acks drop
// frames instead); the stall watch is off (it would replace a stream
// that never answers).
func BenchmarkConnectorSend(b *testing.B) {
	const rateHz, frameSamples = 16000, 1600
	p := stagestest.NewProvider()
	s := &sinkStream{Stream: stagestest.NewStream(4), want: b.N, reached: make(chan struct{})}
	c := connector.New(connector.Config{StallTimeoutMs: -1},
		stages.StreamConfig{SampleRateHz: rateHz, Channels: 1, Language: "en"},
		connector.Deps{
			Provider: p, Metrics: connector.NewMetrics(metrics.NewSet()),
			Logger: slog.New(slog.DiscardHandler),
		})
	in, out := make(chan stages.Audio, benchDepth), make(chan stages.Update, benchDepth)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background(), in, out) }()
	(<-p.Dials).Accept(s)
	for _, want := range []stages.EventKind{stages.EventConnecting, stages.EventConnected} {
		if u := <-out; u.Kind != want {
			b.Fatalf("update %v, want %v", u.Kind, want)
		}
	}
	drained := discard(out)
	frame := stagestest.PCM(0, frameSamples)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		in <- stages.Audio{PCM: frame, Start: int64(i) * frameSamples, SampleRateHz: rateHz}
	}
	<-s.reached
	b.StopTimer()
	close(in)
	if ctl := <-s.Controls; ctl != stages.ControlCloseStream {
		b.Fatalf("control %v, want CloseStream", ctl)
	}
	s.EndNormally()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	<-drained
	reportPerAudioSecond(b)
}

// BenchmarkFanout measures the fan-out stage per Update, from its input
// channel to the sinks reading their outboxes (256 messages each, as a
// session's client outbox).
//
// status: every update is a status change (degraded, recovered), pushed
// at once to every sink, each read by its own goroutine; the timer stops
// when every sink has read a last status sent after the updates. The sinks
// do nothing but read, yet on a loaded machine they can fall behind the
// fan-out and their outboxes overflow, so the sender keeps at most
// fanoutWindow updates ahead of the slowest sink; a drop fails the
// benchmark.
//
// results: every update is a final result of 8 or 9 words, speakers
// taking turns so that each makes a segment of its own, through a fan-out
// with one sink, restarted every fanoutSession results so that the
// conversation (and the heap) stays the size of a long session's. Each
// result's share covers building its segment, the flush that merges it
// and the message that carries it (its share of one flush of
// fanoutSession results when the input closes: in a session a flush every
// 600 ms merges one or two) and 1/fanoutSession of a fan-out's start and
// end.
func BenchmarkFanout(b *testing.B) {
	status := []stages.Update{
		{Kind: stages.EventDegraded, Reason: "upstream unavailable"},
		{Kind: stages.EventRecovered},
	}
	// The same times for both, so that every result is placed last and
	// turns alternate: no merges, no re-placing.
	results := []stages.Update{
		{Kind: stages.EventResult, Result: stagestest.Final(stagestest.Say(0, 1, 3, "Did you get the deck I sent this morning?"))},
		{Kind: stages.EventResult, Result: stagestest.Final(stagestest.Say(1, 1, 3, "Yes, thanks, I will read it after lunch."))},
	}
	for _, sinks := range []int{1, 4} {
		b.Run("status/sinks="+strconv.Itoa(sinks), func(b *testing.B) {
			benchFanoutStatus(b, sinks, status)
		})
	}
	b.Run("results", func(b *testing.B) { benchFanoutResults(b, results) })
}

// fanoutSession is the number of results BenchmarkFanout/results sends
// through one fan-out.
const fanoutSession = 256

// benchFanoutResults runs result updates, in turn, through a fan-out to one
// sink, restarted every fanoutSession updates, and checks that every
// result made a segment.
func benchFanoutResults(b *testing.B, updates []stages.Update) {
	f := fanout.New(fanout.Config{}, fanout.Deps{Provider: "fake", Metrics: fanout.NewMetrics(metrics.NewSet())})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += fanoutSession {
		n := min(fanoutSession, b.N-i)
		in := make(chan stages.Update, benchDepth)
		sink := fanout.NewOutbox[stages.Message]("client", 256, fanout.Disconnect, nil)
		done := make(chan error, 1)
		go func() { done <- f.Run(context.Background(), in, nil, []fanout.Sink{sink}) }()
		for j := range n {
			in <- updates[(i+j)%len(updates)]
		}
		close(in)
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		segs := 0
		for m := range sink.All() { // the segments
			segs += len(m.Segments)
		}
		if segs != n {
			b.Fatalf("%d segments from %d results", segs, n)
		}
	}
}

// Pacing of BenchmarkFanout/status: each sink returns a credit for every
// fanoutBatch messages it read, and the sender takes one from every sink
// every fanoutBatch updates once fanoutWindow are out, so that an outbox
// never holds more than fanoutWindow+fanoutBatch+3 messages.
const fanoutBatch, fanoutWindow = 64, 128

// benchFanoutStatus runs status updates (each pushes one message to every
// sink), in turn, through a fan-out to nSinks sinks.
func benchFanoutStatus(b *testing.B, nSinks int, updates []stages.Update) {
	f := fanout.New(fanout.Config{}, fanout.Deps{Provider: "fake", Metrics: fanout.NewMetrics(metrics.NewSet())})
	var dropped atomic.Int64
	sinks := make([]*fanout.Outbox[stages.Message], nSinks)
	credits := make([]chan struct{}, nSinks)
	ready := make([]chan struct{}, nSinks) // closed on the last status
	var wg sync.WaitGroup
	for i := range sinks {
		sinks[i] = fanout.NewOutbox[stages.Message]("sink"+strconv.Itoa(i), 256, fanout.DropOldest,
			func() { dropped.Add(1) })
		// At most 3 credits are never taken (the last status and the
		// last updates).
		credits[i], ready[i] = make(chan struct{}, 4), make(chan struct{})
		sink, credit, last := sinks[i], credits[i], ready[i]
		wg.Go(func() {
			n := 0
			for m := range sink.All() {
				if n++; n%fanoutBatch == 0 {
					credit <- struct{}{}
				}
				if m.Event == stages.EventConnected {
					close(last)
				}
			}
		})
	}
	in := make(chan stages.Update, benchDepth)
	done := make(chan error, 1)
	asSinks := make([]fanout.Sink, len(sinks))
	for i, s := range sinks {
		asSinks[i] = s
	}
	go func() { done <- f.Run(context.Background(), in, nil, asSinks) }()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i >= fanoutWindow && i%fanoutBatch == 0 {
			for _, c := range credits {
				<-c
			}
		}
		in <- updates[i%len(updates)]
	}
	in <- stages.Update{Kind: stages.EventConnected} // the last status: "ready"
	for _, c := range ready {
		<-c
	}
	b.StopTimer()
	close(in)
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	wg.Wait()
	if n := dropped.Load(); n > 0 {
		b.Fatalf("%d messages dropped: the sinks fell behind", n)
	}
}
