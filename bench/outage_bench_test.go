package bench_test

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/coder/websocket"

	"earshot/emulate"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/protocol"
	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/retry"
)

// Shape of one outage-isolation run.
const (
	healthySessions = 20
	crowdSessions   = 500
	// settle: after a change (start, outage begins, outage ends) before a
	// measured window opens.
	settle         = 3 * time.Second
	baselineWindow = 20 * time.Second
	crowdWindow    = 20 * time.Second
	afterWindow    = 5 * time.Second
)

// Each healthy frame starts with a header the emulator-side recognizer
// decodes: session index and sequence number (little-endian uint32 each),
// then frameMagic. The rest of the frame is silence.
var frameMagic = []byte("EARSHOT!")

const frameHeader = 16

// frameLog records, per healthy session and sequence number, when the
// client wrote the frame and when the emulator's recognizer got it, as
// nanoseconds since t0 plus one (0 means not yet). The monotonic clock of
// one process serves both ends.
type frameLog struct {
	t0      time.Time
	sent    [][]atomic.Int64
	arrived [][]atomic.Int64
	misfit  atomic.Int64 // Accept calls that were not whole tagged frames
	repeats atomic.Int64 // frames that arrived more than once (replay)
}

func newFrameLog(sessions, frames int) *frameLog {
	l := &frameLog{t0: time.Now()}
	l.sent = make([][]atomic.Int64, sessions)
	l.arrived = make([][]atomic.Int64, sessions)
	for i := range sessions {
		l.sent[i] = make([]atomic.Int64, frames)
		l.arrived[i] = make([]atomic.Int64, frames)
	}
	return l
}

func (l *frameLog) now() int64 { return int64(time.Since(l.t0)) + 1 }

// at is the log's clock reading for t.
func (l *frameLog) at(t time.Time) int64 { return int64(t.Sub(l.t0)) + 1 }

// tagRecognizer is the healthy emulator's recognizer: it hears nothing,
// and logs the arrival of every tagged frame.
type tagRecognizer struct{ log *frameLog }

func (r tagRecognizer) Accept(pcm []byte) []stages.Word {
	now := r.log.now()
	if len(pcm) == 0 || len(pcm)%frameBytes != 0 {
		r.log.misfit.Add(1)
		return nil
	}
	for off := 0; off < len(pcm); off += frameBytes {
		f := pcm[off : off+frameBytes]
		if string(f[8:frameHeader]) != string(frameMagic) {
			r.log.misfit.Add(1)
			continue
		}
		sess, seq := binary.LittleEndian.Uint32(f), binary.LittleEndian.Uint32(f[4:])
		if int(sess) >= len(r.log.arrived) || int(seq) >= len(r.log.arrived[sess]) {
			r.log.misfit.Add(1)
			continue
		}
		if !r.log.arrived[sess][seq].CompareAndSwap(0, now) {
			r.log.repeats.Add(1)
		}
	}
	return nil
}

func (tagRecognizer) Flush() []stages.Word { return nil }

// paceFrames writes one frame to c every frameEvery from start until stop
// is closed, a write fails, or max frames went out. Before each write,
// fill (if not nil) prepares the frame for sequence number seq. Behind
// schedule it writes at once (a real client's buffer drains in a burst).
func paceFrames(c *websocket.Conn, start time.Time, stop <-chan struct{}, maxFrames int, fill func(frame []byte, seq int)) {
	frame := make([]byte, frameBytes)
	t := time.NewTimer(time.Until(start))
	defer t.Stop()
	next := start
	for seq := range maxFrames {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if fill != nil {
			fill(frame, seq)
		}
		if err := c.Write(context.Background(), websocket.MessageBinary, frame); err != nil {
			return
		}
		next = next.Add(frameEvery)
		t.Reset(time.Until(next))
	}
}

// outageVariant is what the crowd's gateway and upstream are. The healthy
// gateway gets the same configuration.
type outageVariant struct {
	name string
	cfg  pipeline.Config
	// healthyCrowd: the crowd's upstream works (the control: the same
	// load without an outage).
	healthyCrowd bool
}

var outageVariants = []outageVariant{
	{
		// The shipped protections: per-target breaker and retry budget at
		// their defaults.
		name: "protect=default",
		cfg: pipeline.Config{Connector: connector.Config{
			Backoff: retry.BackoffConfig{BaseMs: 500, Attempts: 1 << 20},
		}},
	},
	{
		// No breaker and no budget in practice: every session redials on
		// its own jittered backoff (100 ms base, 1 s cap), a storm of
		// about a thousand refused upgrades per second.
		name: "protect=off",
		cfg: pipeline.Config{
			Connector: connector.Config{
				Backoff: retry.BackoffConfig{BaseMs: 100, CapMs: 1000, Attempts: 1 << 20},
			},
			Breaker: retry.BreakerConfig{FailureThreshold: 1 << 30},
			Budget:  retry.BudgetConfig{RatePerSec: 1e6, Burst: retry.MaxBudgetBurst},
		},
	},
	{
		// Control: the crowd's upstream is healthy too.
		name:         "control=healthy-crowd",
		cfg:          pipeline.Config{},
		healthyCrowd: true,
	},
}

// BenchmarkOutageIsolation measures whether an upstream outage that hits
// many sessions slows the sessions of a healthy upstream in the same
// process. Two gateways run in one process (one Go runtime), each with its
// own upstream target and so its own breaker: one in front of a healthy
// emulator, one (the crowd's) in front of an emulator that refuses every
// upgrade with 503. 20 healthy clients stream 16 kHz PCM at real-time pace
// for the whole run; each frame's latency is timed from the client's write
// to the healthy emulator's recognizer getting that audio. Windows:
//
//   - baseline: the 20 healthy sessions alone;
//   - crowd: 500 more clients stream at the same pace into the crowd's
//     gateway, whose sessions keep retrying their upstream;
//   - after: the 500 are gone again (drift check).
//
// The control variant's crowd upstream is healthy: the same load, no
// outage. One iteration is one whole run of about a minute: use
// -benchtime 1x, and one variant per command.
func BenchmarkOutageIsolation(b *testing.B) {
	for _, v := range outageVariants {
		b.Run(v.name, func(b *testing.B) {
			for range b.N {
				runOutage(b, v)
			}
		})
	}
}

// window is a measured stretch of a run.
type window struct {
	name       string
	from, to   time.Time
	proc       procDelta
	dials      float64 // the crowd's upstream upgrade attempts per second
	lat        latencies
	lost, sent int
}

func runOutage(b *testing.B, v outageVariant) {
	total := settle + baselineWindow + 2*settle + crowdWindow + 2*settle + afterWindow + 30*time.Second
	log := newFrameLog(healthySessions, int(total/frameEvery))

	_, okURL := testrig.StartEmulator(b, emulate.Config{
		Recognizer: func(int) (emulate.Recognizer, error) { return tagRecognizer{log: log}, nil },
	})
	crowdCfg := emulate.Config{
		Faults:     emulate.Faults{RefuseFirst: 1 << 30, RefuseStatus: 503},
		Recognizer: func(int) (emulate.Recognizer, error) { return silentRecognizer{}, nil },
	}
	if v.healthyCrowd {
		crowdCfg.Faults = emulate.Faults{}
	}
	crowdEmu, crowdURL := testrig.StartEmulator(b, crowdCfg)
	okSet, crowdSet := metrics.NewSet(), metrics.NewSet()
	_, okGW := testrig.StartGatewayWith(b, okURL, v.cfg, pipeline.Deps{Metrics: okSet})
	crowdSrv, crowdGW := testrig.StartGatewayWith(b, crowdURL, v.cfg, pipeline.Deps{Metrics: crowdSet})

	// The healthy sessions: wait for ready, then stream, staggered over
	// one frame period.
	healthy := dialSessionsReady(b, okGW, healthySessions)
	stopHealthy := make(chan struct{})
	var streams sync.WaitGroup
	start := time.Now().Add(50 * time.Millisecond)
	for i, c := range healthy {
		streams.Go(func() {
			paceFrames(c, start.Add(frameEvery*time.Duration(i)/healthySessions), stopHealthy, len(log.sent[i]),
				func(frame []byte, seq int) {
					binary.LittleEndian.PutUint32(frame, uint32(i))
					binary.LittleEndian.PutUint32(frame[4:], uint32(seq))
					copy(frame[8:], frameMagic)
					log.sent[i][seq].Store(log.now())
				})
		})
	}
	defer func() { // on a failed run too
		select {
		case <-stopHealthy:
		default:
			close(stopHealthy)
		}
		streams.Wait()
	}()

	var windows []*window
	measure := func(name string, d time.Duration) {
		w := &window{name: name}
		attempts := crowdEmu.Stats().UpgradeAttempts
		a := snapProc()
		time.Sleep(d)
		z := snapProc()
		w.from, w.to = a.at, z.at
		w.proc = diffProc(a, z)
		w.dials = float64(crowdEmu.Stats().UpgradeAttempts-attempts) / z.at.Sub(a.at).Seconds()
		windows = append(windows, w)
	}

	time.Sleep(settle)
	measure("baseline", baselineWindow)

	// The crowd: 500 clients on the other gateway, streaming too.
	crowd := dialSessions(b, crowdGW, crowdSessions)
	stopCrowd := make(chan struct{})
	var crowdStreams sync.WaitGroup
	start = time.Now()
	for i, c := range crowd {
		crowdStreams.Go(func() {
			paceFrames(c, start.Add(frameEvery*time.Duration(i)/crowdSessions), stopCrowd, 1<<30, nil)
		})
	}
	if !waitFor(10*time.Second, func() bool { return crowdSrv.Sessions() == crowdSessions }) {
		b.Fatalf("crowd gateway has %d sessions, want %d", crowdSrv.Sessions(), crowdSessions)
	}
	time.Sleep(settle)
	measure("crowd", crowdWindow)
	stillThere := crowdSrv.Sessions()

	close(stopCrowd)
	crowdStreams.Wait()
	for _, c := range crowd {
		c.CloseNow()
	}
	if !waitFor(10*time.Second, func() bool { return crowdSrv.Sessions() == 0 }) {
		b.Fatalf("crowd gateway still has %d sessions 10 s after its clients left", crowdSrv.Sessions())
	}
	time.Sleep(settle)
	measure("after", afterWindow)

	close(stopHealthy)
	streams.Wait()
	time.Sleep(time.Second) // the last frames' way through
	for _, c := range healthy {
		_ = c.Close(websocket.StatusNormalClosure, "")
	}

	if stillThere != crowdSessions {
		b.Errorf("only %d of %d crowd sessions lasted the crowd window", stillThere, crowdSessions)
	}
	if n := log.misfit.Load(); n > 0 {
		b.Errorf("%d audio messages reached the healthy emulator not as whole tagged frames", n)
	}
	for _, w := range windows {
		var sample []time.Duration
		from, to := log.at(w.from), log.at(w.to)
		for i := range log.sent {
			for seq := range log.sent[i] {
				s := log.sent[i][seq].Load()
				if s == 0 || s < from || s >= to {
					continue
				}
				w.sent++
				a := log.arrived[i][seq].Load()
				if a == 0 {
					w.lost++
					continue
				}
				sample = append(sample, time.Duration(a-s))
			}
		}
		w.lat = summarise(sample)
		b.Logf("%-8s %s; lost=%d/%d; %s; crowd upstream dials=%.0f/s",
			w.name, w.lat, w.lost, w.sent, w.proc, w.dials)
		if w.lost > 0 {
			b.Errorf("%s: %d of %d healthy frames never reached the emulator", w.name, w.lost, w.sent)
		}
	}
	b.Logf("crowd upstream: %d dials in the whole run, breaker opened %d times; healthy reconnects: %d; replayed frames: %d",
		crowdEmu.Stats().UpgradeAttempts,
		crowdSet.GetOrCreateCounter(`earshot_upstream_breaker_opens_total{target="deepgram"}`).Get(),
		okSet.GetOrCreateCounter(`earshot_upstream_reconnects_total`).Get(), log.repeats.Load())

	base, crowdW, after := windows[0], windows[1], windows[2]
	b.ReportMetric(msOf(base.lat.p50), "base-p50-ms")
	b.ReportMetric(msOf(base.lat.p99), "base-p99-ms")
	b.ReportMetric(msOf(base.lat.pmax), "base-max-ms")
	b.ReportMetric(msOf(crowdW.lat.p50), "crowd-p50-ms")
	b.ReportMetric(msOf(crowdW.lat.p99), "crowd-p99-ms")
	b.ReportMetric(msOf(crowdW.lat.pmax), "crowd-max-ms")
	b.ReportMetric(msOf(after.lat.p99), "after-p99-ms")
	if base.lat.p99 > 0 {
		b.ReportMetric(float64(crowdW.lat.p99)/float64(base.lat.p99), "p99-ratio")
	}
	b.ReportMetric(crowdW.dials, "crowd-dials/s")
	b.ReportMetric(crowdW.proc.cores, "crowd-cores")
	b.ReportMetric(crowdW.proc.others, "crowd-others-cores")
}

// dialSessionsReady is dialSessions for a healthy upstream: each session
// is also waited on until its upstream is connected (status ready).
func dialSessionsReady(b *testing.B, url string, n int) []*websocket.Conn {
	b.Helper()
	conns := make([]*websocket.Conn, 0, n)
	b.Cleanup(func() {
		for _, c := range conns {
			c.CloseNow()
		}
	})
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := dialListen(ctx, url)
		if err == nil {
			conns = append(conns, c)
			err = awaitStatus(ctx, c, protocol.StatusReady)
		}
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		discardReads(c)
	}
	return conns
}
