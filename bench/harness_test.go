package bench_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"earshot/internal/testrig"
)

// The audio every load client sends: 100 ms frames of 16 kHz 16-bit mono
// PCM, one frame every 100 ms of wall time (a real client's pace).
const (
	frameBytes  = 3200
	frameEvery  = 100 * time.Millisecond
	listenQuery = "?sample_rate=16000&codec=pcm16"
)

// dialListen opens one client session on a gateway's /v4/listen URL.
func dialListen(ctx context.Context, url string) (*websocket.Conn, error) {
	c, _, err := websocket.Dial(ctx, url+listenQuery, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + testrig.ClientKey}},
	})
	return c, err
}

// awaitStatus reads c until a service_status event with status arrives.
func awaitStatus(ctx context.Context, c *websocket.Conn, status string) error {
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			return fmt.Errorf("waiting for %q: %w", status, err)
		}
		if strings.Contains(string(msg), `"`+status+`"`) {
			return nil
		}
	}
}

// discardReads reads and drops everything c receives until it is closed,
// so that the gateway's pings and close frames are answered, as a real
// client's would be.
func discardReads(c *websocket.Conn) {
	go func() {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}()
}

// dialSessions opens n client sessions on url, at most 32 dials at a time,
// and starts discardReads on each. The returned connections are closed by
// b's cleanup (closing them again there is harmless).
func dialSessions(b *testing.B, url string, n int) []*websocket.Conn {
	b.Helper()
	conns := make([]*websocket.Conn, n)
	var g errgroup.Group
	g.SetLimit(32)
	for i := range conns {
		g.Go(func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := dialListen(ctx, url)
			if err != nil {
				return err
			}
			conns[i] = c
			return nil
		})
	}
	err := g.Wait()
	b.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.CloseNow()
			}
		}
	})
	if err != nil {
		b.Fatalf("dialing %d sessions: %v", n, err)
	}
	for _, c := range conns {
		discardReads(c)
	}
	return conns
}

// waitFor polls cond every 5 ms until it holds or timeout passes, and
// reports whether it held.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// latencies summarises a sample of durations (nearest-rank percentiles).
type latencies struct {
	n              int
	p50, p99, pmax time.Duration
}

func summarise(d []time.Duration) latencies {
	if len(d) == 0 {
		return latencies{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return latencies{n: len(s), p50: rank(0.50), p99: rank(0.99), pmax: s[len(s)-1]}
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (l latencies) String() string {
	return fmt.Sprintf("n=%d p50=%.2fms p99=%.2fms max=%.2fms", l.n, msOf(l.p50), msOf(l.p99), msOf(l.pmax))
}

// procSnap is a snapshot of process-wide counters, to compare two points
// of a run: CPU time (user+system, from getrusage), garbage-collection
// cycles and CPU, and the Go scheduler's latency histogram (time goroutines
// spent runnable before they ran).
type procSnap struct {
	at      time.Time
	cpu     time.Duration
	gcs     uint64
	gcCPU   float64
	sched   []uint64
	buckets []float64
	live    uint64 // heap bytes marked live by the latest GC
	// Machine-wide from /proc/stat, in clock ticks (USER_HZ, 100 per
	// second on Linux): busy is every CPU's non-idle time, steal the
	// hypervisor's.
	busy, steal uint64
}

var procMetrics = []string{
	"/gc/cycles/total:gc-cycles",
	"/cpu/classes/gc/total:cpu-seconds",
	"/sched/latencies:seconds",
	"/gc/heap/live:bytes",
}

func snapProc() procSnap {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	s := procSnap{
		at:  time.Now(),
		cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
	}
	samples := make([]metrics.Sample, len(procMetrics))
	for i, name := range procMetrics {
		samples[i].Name = name
	}
	metrics.Read(samples)
	s.gcs = samples[0].Value.Uint64()
	s.gcCPU = samples[1].Value.Float64()
	h := samples[2].Value.Float64Histogram()
	s.sched = slices.Clone(h.Counts)
	s.buckets = h.Buckets
	s.live = samples[3].Value.Uint64()
	s.busy, s.steal = machineTicks()
	return s
}

// procDelta is what happened between two snapshots.
type procDelta struct {
	cores    float64 // CPU seconds per wall second
	gcs      uint64
	gcShare  float64 // share of the CPU spent in garbage collection
	schedP99 time.Duration
	liveMB   float64 // live heap at the end
	others   float64 // CPU seconds per wall second used by other processes
	steal    float64 // CPU seconds per wall second stolen by the hypervisor
}

func diffProc(a, z procSnap) procDelta {
	wall := z.at.Sub(a.at).Seconds()
	cpu := (z.cpu - a.cpu).Seconds()
	d := procDelta{cores: cpu / wall, gcs: z.gcs - a.gcs, liveMB: float64(z.live) / (1 << 20)}
	if z.busy > a.busy {
		d.others = max(float64(z.busy-a.busy)/userHz-cpu, 0) / wall
		d.steal = float64(z.steal-a.steal) / userHz / wall
	}
	if cpu > 0 {
		d.gcShare = (z.gcCPU - a.gcCPU) / cpu
	}
	var total uint64
	counts := make([]uint64, len(z.sched))
	for i := range counts {
		counts[i] = z.sched[i] - a.sched[i]
		total += counts[i]
	}
	var seen uint64
	for i, c := range counts {
		seen += c
		if total > 0 && float64(seen) >= 0.99*float64(total) {
			// The bucket's upper bound (the last one is +Inf: use its
			// lower bound).
			ub := z.buckets[i+1]
			if math.IsInf(ub, 1) {
				ub = z.buckets[i]
			}
			d.schedP99 = time.Duration(ub * float64(time.Second))
			break
		}
	}
	return d
}

func (d procDelta) String() string {
	return fmt.Sprintf("cpu=%.2f cores (other processes %.2f, steal %.2f), gc=%d cycles (%.0f%% of cpu), live heap %.0f MB, sched p99<=%.2fms",
		d.cores, d.others, d.steal, d.gcs, 100*d.gcShare, d.liveMB, msOf(d.schedP99))
}

const userHz = 100

// machineTicks reads the aggregate cpu line of /proc/stat: busy and steal
// ticks (zero if it cannot be read).
func machineTicks() (busy, steal uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0
	}
	for i, v := range f[1:9] {
		n, _ := strconv.ParseUint(v, 10, 64)
		switch i {
		case 3, 4: // idle, iowait
		case 7:
			steal = n
			busy += n
		default:
			busy += n
		}
	}
	return busy, steal
}
