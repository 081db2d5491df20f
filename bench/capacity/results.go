package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"earshot/stages/fanout"
	"earshot/stages/gate"
)

// results is what a run writes to bench/out/capacity-*.json.
type results struct {
	Machine      machine      `json:"machine"`
	Started      time.Time    `json:"started"`
	Finished     time.Time    `json:"finished"`
	Load1AtStart float64      `json:"load1_at_start"`
	Settings     settings     `json:"settings"`
	Conversation conversation `json:"conversation"`
	Notes        []string     `json:"notes,omitempty"`
	Runs         []*Run       `json:"runs"`
	Summary      []summary    `json:"summary"`
	Ratios       []ratio      `json:"ratios"`
}

type machine struct {
	Cores      int    `json:"cores"`
	CPUModel   string `json:"cpu_model"`
	MemTotalKB int64  `json:"mem_total_kb"`
	Kernel     string `json:"kernel"`
	GoVersion  string `json:"go_version"`
}

type settings struct {
	WindowSec     float64  `json:"window_sec"`
	WarmSec       float64  `json:"warm_sec"`
	MaxLateMs     float64  `json:"max_late_ms"`
	TargetP99Ms   float64  `json:"target_p99_ms"`
	FlushHoldMs   int      `json:"flush_hold_ms"`
	ResultEvery   int      `json:"result_every_frames"`
	PrerollFrames int      `json:"gate_preroll_frames"`
	Levels        []int    `json:"levels"`
	GateLevels    []int    `json:"gate_levels"`
	GatewayEnv    []string `json:"gateway_env,omitempty"`
	// -pin: the target ran on TargetCPUList with GOMAXPROCS=1 (unless
	// GatewayEnv set it for earshot serve), the upstream and the harness
	// on LoadCPUList. TargetCPUs is the count of CPUs the target could
	// use: 1 pinned, every core otherwise.
	Pin           bool   `json:"pin"`
	TargetCPUs    int    `json:"target_cpus"`
	TargetCPUList string `json:"target_cpu_list,omitempty"`
	LoadCPUList   string `json:"load_cpu_list,omitempty"`
}

func newResults(o *options, conv *conversation, load float64, pin *pinPlan) *results {
	m := machine{Cores: runtime.NumCPU(), CPUModel: cpuModel(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.MemTotalKB, _ = parseStatusKB(b, "MemTotal")
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	c := *conv
	c.PCM = nil
	res := &results{
		Machine: m, Started: time.Now(), Load1AtStart: load, Conversation: c,
		Settings: settings{
			WindowSec: o.window.Seconds(), WarmSec: o.warm.Seconds(),
			MaxLateMs: float64(o.maxLate.Milliseconds()), TargetP99Ms: float64(o.target.Milliseconds()),
			FlushHoldMs: fanout.DefaultFlushIntervalMs, ResultEvery: 10,
			PrerollFrames: (gate.DefaultPrerollMs + frameMs - 1) / frameMs,
			Levels:        o.levels, GateLevels: o.gateLevels, GatewayEnv: o.gatewayEnv,
			TargetCPUs: m.Cores,
		},
	}
	if pin != nil {
		s := &res.Settings
		s.Pin, s.TargetCPUs, s.TargetCPUList, s.LoadCPUList = true, len(pin.Target), cpuList(pin.Target), cpuList(pin.Load)
	}
	return res
}

// Run is one level of one configuration.
type Run struct {
	Config   string   `json:"config"`
	Sessions int      `json:"sessions"`
	Purpose  string   `json:"purpose"`
	Pass     bool     `json:"pass"`
	Why      []string `json:"why,omitempty"`

	WindowSec float64 `json:"window_sec"`
	AudioSec  float64 `json:"audio_sec"`

	// Client → upstream: frames sent in the window, and those that
	// arrived upstream; FrameLatency over the live ones, PrerollLatency
	// over the gate's held pre-roll (gate on).
	FramesSent     int     `json:"frames_sent"`
	FramesArrived  int     `json:"frames_arrived"`
	PrerollFrames  int     `json:"preroll_frames"`
	ForwardedShare float64 `json:"forwarded_share"`
	FrameLatency   latency `json:"frame_latency"`
	Over20BySecond []int   `json:"frames_over_20ms_by_second,omitempty"`
	PrerollLatency latency `json:"preroll_latency"`
	// Upstream → client: arrival at the client minus the Results' send
	// time, less ResultHoldMs (the gateway's designed segment flush).
	ResultLatency  latency `json:"result_latency"`
	ResultHoldMs   int     `json:"result_hold_ms"`
	ResultRawP50Ms float64 `json:"result_raw_p50_ms"`
	ResultBatched  int     `json:"result_batched"`

	MaxLateMs       float64  `json:"max_late_ms"`
	WarmLateMs      float64  `json:"warm_late_ms"`
	SessionsFailed  int      `json:"sessions_failed"`
	Failures        []string `json:"failures,omitempty"`
	UpstreamStreams int64    `json:"upstream_streams"`

	// CPU seconds in the window: the target (gateway or relay), the
	// upstream, the harness (load generator), and what the rest of the
	// machine used (cores).
	TargetCPUSec   float64 `json:"target_cpu_sec"`
	UpstreamCPUSec float64 `json:"upstream_cpu_sec"`
	HarnessCPUSec  float64 `json:"harness_cpu_sec"`
	OutsideCores   float64 `json:"outside_cores"`
	TargetCores    float64 `json:"target_cores"`
	CPUPerAudioSec float64 `json:"cpu_sec_per_audio_sec"`

	RSSBeforeKB     int64   `json:"rss_before_kb"`
	RSSEndKB        int64   `json:"rss_end_kb"`
	RSSPeakKB       int64   `json:"rss_peak_kb"`
	RSSPerSessionKB float64 `json:"rss_per_session_kb"`
	// Idle runs: RSS 3 s after the last session was ready (RSSSettleKB)
	// and after IdleHoldS seconds idle (RSSEndKB).
	RSSSettleKB           int64   `json:"rss_settle_kb,omitempty"`
	RSSSettlePerSessionKB float64 `json:"rss_settle_per_session_kb,omitempty"`
	IdleHoldS             float64 `json:"idle_hold_s,omitempty"`

	// Gateway: where its CPU and memory went (gateway configurations).
	Gateway *gatewayStats `json:"gateway,omitempty"`

	LogWarnings int      `json:"log_warnings"`
	LogSamples  []string `json:"log_samples,omitempty"`
	Load1Before float64  `json:"load1_before"`

	// Pinned: the target ran on one CPU of its own with GOMAXPROCS=1
	// (-pin). TargetCPUs is how many CPUs it could use (1 pinned, every
	// core otherwise), TargetAffinity its threads' Cpus_allowed_list.
	Pinned         bool   `json:"pinned"`
	TargetCPUs     int    `json:"target_cpus"`
	TargetAffinity string `json:"target_affinity"`
}

// fill computes a streaming run's figures and whether it passed.
func (r *Run) fill(kind string, n int, lr loadResult, rep upstreamReport, a, b snap,
	rssEnd, rssPeak int64, window time.Duration, o *options) {
	r.WindowSec = window.Seconds()
	r.AudioSec = float64(n) * r.WindowSec
	r.FramesSent, r.FramesArrived, r.PrerollFrames = lr.Sent, rep.Frames, rep.Preroll
	if lr.Sent > 0 {
		r.ForwardedShare = float64(rep.Frames) / float64(lr.Sent)
	}
	r.FrameLatency, r.PrerollLatency, r.Over20BySecond = rep.Live, rep.PrerollLate, rep.Over20BySecond
	if kind != kindRelay {
		r.ResultHoldMs = fanout.DefaultFlushIntervalMs
	}
	raw := append([]int64(nil), lr.ResultNs...)
	r.ResultRawP50Ms = summarize(raw).P50
	net := lr.ResultNs
	for i := range net {
		net[i] -= int64(r.ResultHoldMs) * 1e6
	}
	r.ResultLatency, r.ResultBatched = summarize(net), lr.Batched
	r.MaxLateMs, r.WarmLateMs = lr.MaxLateMs, lr.WarmLateMs
	r.SessionsFailed, r.Failures = lr.Failed, lr.Failures
	r.UpstreamStreams = rep.Streams

	dt := b.at.Sub(a.at).Seconds()
	r.TargetCPUSec = b.target - a.target
	r.UpstreamCPUSec = b.up - a.up
	r.HarnessCPUSec = b.self - a.self
	r.OutsideCores = (b.busy - a.busy - r.TargetCPUSec - r.UpstreamCPUSec - r.HarnessCPUSec) / dt
	r.TargetCores = r.TargetCPUSec / dt
	r.CPUPerAudioSec = r.TargetCPUSec / (float64(n) * dt)
	r.RSSEndKB, r.RSSPeakKB = rssEnd, rssPeak
	r.RSSPerSessionKB = float64(rssEnd-r.RSSBeforeKB) / float64(n)

	target := float64(o.target.Milliseconds())
	why := func(f string, args ...any) { r.Why = append(r.Why, fmt.Sprintf(f, args...)) }
	if lr.Failed > 0 {
		why("%d of %d sessions failed (%s)", lr.Failed, n, strings.Join(lr.Failures, "; "))
	}
	if r.MaxLateMs > float64(o.maxLate.Milliseconds()) {
		why("a sender fell %.0f ms behind real time", r.MaxLateMs)
	}
	if kind != kindGateOn && rep.Frames != lr.Sent {
		why("%d of %d frames arrived upstream", rep.Frames, lr.Sent)
	}
	if rep.Streams != int64(n) {
		why("%d upstream streams for %d sessions", rep.Streams, n)
	}
	switch {
	case rep.Live.N == 0:
		why("no frame measured")
	case rep.Live.P99 >= target:
		why("frame p99 %.1f ms", rep.Live.P99)
	}
	switch {
	case r.ResultLatency.N == 0:
		why("no result measured")
	case r.ResultLatency.P99 >= target:
		why("result p99 %.1f ms", r.ResultLatency.P99)
	}
	r.Pass = len(r.Why) == 0
}

// line is a run's progress line.
func (r *Run) line() string {
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL (" + strings.Join(r.Why, "; ") + ")"
	}
	if r.Purpose == purposeIdle {
		return fmt.Sprintf("%-8s %5d idle sessions: RSS %.0f → %.0f MB, %.1f KB/session 3 s after the last connected, "+
			"%.1f KB/session after %.0f s idle %s",
			r.Config, r.Sessions, float64(r.RSSBeforeKB)/1024, float64(r.RSSEndKB)/1024, r.RSSSettlePerSessionKB,
			r.RSSPerSessionKB, r.IdleHoldS, verdict)
	}
	return fmt.Sprintf("%-8s %5d sessions (%s): frame p99 %.2f ms, result p99 %.2f ms, late %.0f ms, "+
		"%.2f cores = %.3f CPU-ms/audio-s, RSS %.0f KB/session, upstream %.2f, harness %.2f, outside %.2f cores; %s",
		r.Config, r.Sessions, r.Purpose, r.FrameLatency.P99, r.ResultLatency.P99, r.MaxLateMs,
		r.TargetCores, r.CPUPerAudioSec*1e3, r.RSSPerSessionKB,
		r.UpstreamCPUSec/r.WindowSec, r.HarnessCPUSec/r.WindowSec, r.OutsideCores, verdict)
}

// summary is a configuration's capacity.
type summary struct {
	Config string `json:"config"`
	// Largest passing session count, and whether a level above it was
	// run and failed (false: the search ran out of levels).
	Sessions    int  `json:"sessions"`
	FailedAbove bool `json:"failed_above"`
	// Sessions ÷ PerCoreOf: the target's cores when pinned (1, so the
	// sessions on the target's one core), all the machine's otherwise.
	Pinned          bool    `json:"pinned"`
	PerCoreOf       int     `json:"per_core_of"`
	SessionsPerCore float64 `json:"sessions_per_core"`
	// The target's own CPU at that level, and sessions per core of it.
	TargetCores           float64 `json:"target_cores"`
	SessionsPerTargetCore float64 `json:"sessions_per_target_core"`
	CPUPerAudioSec        float64 `json:"cpu_sec_per_audio_sec"`
	RSSPerSessionKB       float64 `json:"rss_per_session_kb"`
	FrameP99Ms            float64 `json:"frame_p99_ms"`
	ResultP99Ms           float64 `json:"result_p99_ms"`
}

// ratio compares the gateway (gate off) with the relay at one level.
type ratio struct {
	Sessions   int     `json:"sessions"`
	Gateway    float64 `json:"gateway_cpu_sec_per_audio_sec"`
	Relay      float64 `json:"relay_cpu_sec_per_audio_sec"`
	Ratio      float64 `json:"ratio"`
	GatewayRSS float64 `json:"gateway_rss_per_session_kb"`
	RelayRSS   float64 `json:"relay_rss_per_session_kb"`
}

func (res *results) summarize(o *options) {
	res.Summary, res.Ratios = nil, nil
	for _, kind := range []string{kindGateOff, kindGateOn, kindRelay} {
		var best *Run
		failedAbove := false
		for _, r := range res.Runs {
			if r.Config != kind || r.Purpose != purposeCapacity {
				continue
			}
			if r.Pass && (best == nil || r.Sessions > best.Sessions) {
				best = r
			}
		}
		if best == nil {
			continue
		}
		for _, r := range res.Runs {
			if r.Config == kind && r.Purpose == purposeCapacity && !r.Pass && r.Sessions > best.Sessions {
				failedAbove = true
			}
		}
		cores := res.Machine.Cores
		if best.Pinned && best.TargetCPUs > 0 {
			cores = best.TargetCPUs
		}
		s := summary{
			Config: kind, Sessions: best.Sessions, FailedAbove: failedAbove,
			Pinned: best.Pinned, PerCoreOf: cores, SessionsPerCore: float64(best.Sessions) / float64(cores),
			TargetCores: best.TargetCores, CPUPerAudioSec: best.CPUPerAudioSec,
			RSSPerSessionKB: best.RSSPerSessionKB, FrameP99Ms: best.FrameLatency.P99, ResultP99Ms: best.ResultLatency.P99,
		}
		if best.TargetCores > 0 {
			s.SessionsPerTargetCore = float64(best.Sessions) / best.TargetCores
		}
		res.Summary = append(res.Summary, s)
	}
	for _, g := range res.Runs {
		if g.Config != kindGateOff || g.Purpose != purposeCapacity {
			continue
		}
		for _, rl := range res.Runs {
			if rl.Config == kindRelay && rl.Purpose == purposeCapacity && rl.Sessions == g.Sessions && rl.CPUPerAudioSec > 0 {
				res.Ratios = append(res.Ratios, ratio{
					Sessions: g.Sessions, Gateway: g.CPUPerAudioSec, Relay: rl.CPUPerAudioSec,
					Ratio:      g.CPUPerAudioSec / rl.CPUPerAudioSec,
					GatewayRSS: g.RSSPerSessionKB, RelayRSS: rl.RSSPerSessionKB,
				})
			}
		}
	}
}

// pinSentence says where the target, the upstream and the load generator
// ran, and what "per core" divides by.
func (res *results) pinSentence() string {
	s := res.Settings
	if !s.Pin {
		return fmt.Sprintf("Not pinned: the target, the upstream and the load generator shared all %d cores; "+
			"sessions per core divide the largest passing sessions by all of them.", res.Machine.Cores)
	}
	gomax := "GOMAXPROCS=1"
	for _, kv := range s.GatewayEnv { // -gateway-env wins for earshot serve
		if v, ok := strings.CutPrefix(kv, "GOMAXPROCS="); ok {
			gomax = "GOMAXPROCS=1 (earshot serve: GOMAXPROCS=" + v + ", from -gateway-env)"
		}
	}
	return fmt.Sprintf("Pinned: the target (earshot serve or the relay) ran on CPU %s only with %s; "+
		"the upstream and the load generator on CPU %s. %s: the largest passing sessions ÷ %d.",
		s.TargetCPUList, gomax, s.LoadCPUList, upper(perCoreHeader(true, s.TargetCPUs)), s.TargetCPUs)
}

// perCoreHeader is the summary table's sessions-per-core column.
func perCoreHeader(pinned bool, targetCPUs int) string {
	switch {
	case !pinned:
		return "sessions per core (÷ all cores)"
	case targetCPUs == 1:
		return "sessions on the target's one core (pinned)"
	default:
		return fmt.Sprintf("sessions per core of the target's %d pinned cores", targetCPUs)
	}
}

func upper(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// targetCPUsCell is how many CPUs the target could use, and which when
// pinned.
func (r *Run) targetCPUsCell() string {
	if r.Pinned {
		return fmt.Sprintf("%d, pinned (CPU %s)", r.TargetCPUs, r.TargetAffinity)
	}
	return fmt.Sprintf("%d, shared", r.TargetCPUs)
}

// markdown renders the tables for bench/README.md.
func (res *results) markdown() string {
	var b strings.Builder
	m := res.Machine
	fmt.Fprintf(&b, "Machine: %d cores (%s), %.0f GiB, Linux %s, %s; 1-minute load average %.2f at the start.\n\n",
		m.Cores, m.CPUModel, float64(m.MemTotalKB)/(1<<20), m.Kernel, m.GoVersion, res.Load1AtStart)
	b.WriteString(res.pinSentence() + "\n\n")
	if len(res.Settings.GatewayEnv) > 0 {
		fmt.Fprintf(&b, "earshot serve ran with %s.\n\n", strings.Join(res.Settings.GatewayEnv, " "))
	}
	b.WriteString("| config | sessions | target CPUs | pace ok | frame p99 ms (client → upstream) | result p99 ms (upstream → client) | " +
		"target CPU-ms / audio-s | target cores | RSS KB / session | upstream + harness cores | outside cores | pass |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range res.Runs {
		if r.Purpose != purposeCapacity {
			continue
		}
		pace := "yes"
		if r.MaxLateMs > res.Settings.MaxLateMs || r.SessionsFailed > 0 {
			pace = fmt.Sprintf("no (%.0f ms late)", r.MaxLateMs)
		}
		verdict := "yes"
		if !r.Pass {
			verdict = "no: " + strings.Join(r.Why, "; ")
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %.2f | %.2f | %.3f | %.2f | %.0f | %.2f | %.2f | %s |\n",
			r.Config, r.Sessions, r.targetCPUsCell(), pace, r.FrameLatency.P99, r.ResultLatency.P99, r.CPUPerAudioSec*1e3,
			r.TargetCores, r.RSSPerSessionKB, (r.UpstreamCPUSec+r.HarnessCPUSec)/r.WindowSec, r.OutsideCores,
			verdict)
	}
	b.WriteString("\n| config | largest passing sessions | " + perCoreHeader(res.Settings.Pin, res.Settings.TargetCPUs) +
		" | target cores used there | " +
		"sessions per core of the target's own CPU | CPU-ms / audio-s | RSS KB / session |\n|---|---|---|---|---|---|---|\n")
	for _, s := range res.Summary {
		note := ""
		if !s.FailedAbove {
			note = " (no failing level run)"
		}
		fmt.Fprintf(&b, "| %s | %d%s | %.0f | %.2f | %.0f | %.3f | %.0f |\n", s.Config, s.Sessions, note,
			s.SessionsPerCore, s.TargetCores, s.SessionsPerTargetCore, s.CPUPerAudioSec*1e3, s.RSSPerSessionKB)
	}
	if len(res.Ratios) > 0 {
		b.WriteString("\n| sessions | gateway (gate off) CPU-ms / audio-s | bare relay CPU-ms / audio-s | ratio | " +
			"gateway RSS KB / session | relay RSS KB / session |\n|---|---|---|---|---|---|\n")
		for _, q := range res.Ratios {
			fmt.Fprintf(&b, "| %d | %.3f | %.3f | %.2f× | %.0f | %.0f |\n", q.Sessions, q.Gateway*1e3, q.Relay*1e3,
				q.Ratio, q.GatewayRSS, q.RelayRSS)
		}
	}
	gw := false
	for _, r := range res.Runs {
		if r.Gateway == nil {
			continue
		}
		if !gw {
			b.WriteString("\n| gateway run | config | sessions | GC share of its CPU | GC cycles / s | allocations / frame | " +
				"KB allocated / audio-s | heap goal KB / session | stacks KB / session | goroutines / session |\n" +
				"|---|---|---|---|---|---|---|---|---|---|\n")
			gw = true
		}
		g := r.Gateway
		cycles := "–"
		if r.WindowSec > 0 {
			cycles = fmt.Sprintf("%.2f", g.GCCycles/r.WindowSec)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %.0f%% | %s | %.1f | %.1f | %.0f | %.1f | %.1f |\n", r.Purpose, r.Config, r.Sessions,
			100*g.GCShare, cycles, g.AllocsPerFrame, g.AllocKBPerAudioSec, g.HeapGoalKBPerSession,
			g.StackKBPerSession, g.GoroutinesPerSession)
	}
	mem := false
	for _, r := range res.Runs {
		if r.Purpose == purposeCapacity {
			continue
		}
		if !mem {
			b.WriteString("\n| memory run | config | sessions | RSS before MB | RSS with the sessions MB | KB per session | idle: KB per session 3 s after the last connected |\n|---|---|---|---|---|---|---|\n")
			mem = true
		}
		settle := "–"
		if r.Purpose == purposeIdle {
			settle = fmt.Sprintf("%.1f", r.RSSSettlePerSessionKB)
		}
		what := r.Purpose
		if r.IdleHoldS > 0 {
			what = fmt.Sprintf("%s (%.0f s)", r.Purpose, r.IdleHoldS)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %.1f | %.1f | %.1f | %s |\n", what, r.Config, r.Sessions,
			float64(r.RSSBeforeKB)/1024, float64(r.RSSEndKB)/1024, r.RSSPerSessionKB, settle)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(&b, "\nNote: %s\n", n)
	}
	return b.String()
}
