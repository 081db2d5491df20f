package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The gateway's Go runtime metrics read from its /metrics (VictoriaMetrics'
// process metrics), to say where its CPU and memory go.
var goMetricNames = []string{
	"go_gc_cpu_seconds_total",
	"go_gc_duration_seconds_count",
	"go_memstats_mallocs_total",
	"go_memstats_alloc_bytes_total",
	"go_memstats_next_gc_bytes",
	"go_memstats_stack_inuse_bytes",
	"go_goroutines",
}

// scrapeGoMetrics reads goMetricNames from a gateway's /metrics.
func scrapeGoMetrics(addr string) (map[string]float64, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return parseMetrics(b, goMetricNames)
}

// parseMetrics reads the unlabelled samples named in names from
// Prometheus text; every name must be there.
func parseMetrics(b []byte, names []string) (map[string]float64, error) {
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	out := make(map[string]float64, len(names))
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !want[name] {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return nil, fmt.Errorf("metric %s: %w", name, err)
		}
		out[name] = v
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("metric %s missing", n)
		}
	}
	return out, nil
}

// gatewayStats says where the gateway's CPU and memory went in a window.
type gatewayStats struct {
	// GCShare is the share of the gateway's CPU in the window spent in
	// garbage collection (go_gc_cpu_seconds_total, which counts the GC's
	// whole share of the processors: an estimate), and GCCycles the
	// collections.
	GCShare  float64 `json:"gc_share_of_cpu"`
	GCCycles float64 `json:"gc_cycles"`
	// Allocations per frame sent, and bytes allocated per audio second.
	AllocsPerFrame     float64 `json:"allocs_per_frame"`
	AllocKBPerAudioSec float64 `json:"alloc_kb_per_audio_sec"`
	// The heap goal (about twice the heap marked live, plus stacks, at
	// GOGC=100) and goroutine stacks, per session, above the idle gateway.
	HeapGoalKBPerSession float64 `json:"heap_goal_kb_per_session"`
	StackKBPerSession    float64 `json:"stack_kb_per_session"`
	GoroutinesPerSession float64 `json:"goroutines_per_session"`
}

// newGatewayStats compares scrapes before the sessions (idle), at the
// window's start (a) and end (b).
func newGatewayStats(idle, a, b map[string]float64, targetCPUSec float64, frames, sessions int, audioSec float64) *gatewayStats {
	d := func(name string) float64 { return b[name] - a[name] }
	n := float64(sessions)
	g := &gatewayStats{
		GCCycles:             d("go_gc_duration_seconds_count"),
		HeapGoalKBPerSession: (b["go_memstats_next_gc_bytes"] - idle["go_memstats_next_gc_bytes"]) / 1024 / n,
		StackKBPerSession:    (b["go_memstats_stack_inuse_bytes"] - idle["go_memstats_stack_inuse_bytes"]) / 1024 / n,
		GoroutinesPerSession: (b["go_goroutines"] - idle["go_goroutines"]) / n,
	}
	if targetCPUSec > 0 {
		g.GCShare = d("go_gc_cpu_seconds_total") / targetCPUSec
	}
	if frames > 0 {
		g.AllocsPerFrame = d("go_memstats_mallocs_total") / float64(frames)
	}
	if audioSec > 0 {
		g.AllocKBPerAudioSec = d("go_memstats_alloc_bytes_total") / 1024 / audioSec
	}
	return g
}
