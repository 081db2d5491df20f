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
	// Label is -label: what this run measured (e.g. the build), for the
	// tables, the plot and compare.
	Label        string       `json:"label,omitempty"`
	Machine      machine      `json:"machine"`
	Started      time.Time    `json:"started"`
	Finished     time.Time    `json:"finished"`
	Load1AtStart float64      `json:"load1_at_start"`
	Settings     settings     `json:"settings"`
	Conversation conversation `json:"conversation"`
	// Framing is the first framing (the only one before -framings);
	// Framings all of the run's, in the order they ran.
	Framing  framing         `json:"framing"`
	Framings []framingResult `json:"framings,omitempty"`
	Notes    []string        `json:"notes,omitempty"`
	Runs     []*Run          `json:"runs"`
	Summary  []summary       `json:"summary"`
	Ratios   []ratio         `json:"ratios"`
	// ByFraming is the capacity of each framing (see framingSummary).
	ByFraming []framingSummary `json:"by_framing,omitempty"`
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
	// Channels per session (-channels): each has its own upstream socket.
	Channels int `json:"channels"`
	// -pin: the target ran on TargetCPUList with GOMAXPROCS=1 (unless
	// GatewayEnv set it for earshot serve), the upstream and the harness
	// on LoadCPUList. TargetCPUs is the count of CPUs the target could
	// use: 1 pinned, every core otherwise.
	Pin           bool   `json:"pin"`
	TargetCPUs    int    `json:"target_cpus"`
	TargetCPUList string `json:"target_cpu_list,omitempty"`
	LoadCPUList   string `json:"load_cpu_list,omitempty"`
}

func newResults(o *options, conv *conversation, frs []*framing, load float64, pin *pinPlan) *results {
	fr := frs[0]
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
		Label: o.label, Machine: m, Started: time.Now(), Load1AtStart: load, Conversation: c, Framing: *fr,
		Settings: settings{
			WindowSec: o.window.Seconds(), WarmSec: o.warm.Seconds(),
			MaxLateMs: float64(o.maxLate.Milliseconds()), TargetP99Ms: float64(o.target.Milliseconds()),
			FlushHoldMs: fanout.DefaultFlushIntervalMs, ResultEvery: fr.everyFrames(1000),
			PrerollFrames: fr.everyFrames(gate.DefaultPrerollMs),
			Levels:        o.levels, GateLevels: o.gateLevels, GatewayEnv: o.gatewayEnv,
			Channels: max(o.channels, 1), TargetCPUs: m.Cores,
		},
	}
	for i, f := range frs {
		fs := o.framings[i]
		method := methodArrival
		if f.Stamped {
			method = methodStamp
		}
		res.Framings = append(res.Framings, framingResult{Name: fs.Name, framing: *f, Levels: fs.Levels, GateLevels: fs.GateLevels,
			ResultEvery: f.everyFrames(1000), PrerollFrames: f.everyFrames(gate.DefaultPrerollMs), FrameMethod: method})
	}
	if pin != nil {
		s := &res.Settings
		s.Pin, s.TargetCPUs, s.TargetCPUList, s.LoadCPUList = true, len(pin.Target), cpuList(pin.Target), cpuList(pin.Load)
	}
	return res
}

// Run is one level of one configuration.
type Run struct {
	Config string `json:"config"`
	// Sessions are client sessions, of Channels channels each (one
	// upstream socket per channel: Sessions·Channels upstream streams).
	Sessions int    `json:"sessions"`
	Channels int    `json:"channels"`
	Purpose  string `json:"purpose"`
	Pass     bool   `json:"pass"`
	// Spoiled: the rest of the machine used -max-outside cores or more
	// during the window, so the run is not counted (-outside-retries).
	Spoiled bool     `json:"spoiled,omitempty"`
	Why     []string `json:"why,omitempty"`

	// AudioSec is channel-audio: sessions × channels × window.
	WindowSec float64 `json:"window_sec"`
	AudioSec  float64 `json:"audio_sec"`

	// What the sessions sent (see framing): the framing's name (-framings),
	// the codec, the frame, and whether frames carried stamps.
	Framing string  `json:"framing"`
	Codec   string  `json:"codec"`
	FrameMs float64 `json:"frame_ms"`
	Stamped bool    `json:"stamped"`
	// FrameMethod says how FrameLatency and PrerollLatency were measured:
	// methodStamp (every frame's stamp, at the upstream) or methodArrival
	// (one sample per Results and session, from its arrival word; see
	// arrival.go). FrameArrivalLatency and FrameArrivalPreroll are the
	// arrival method's figures whichever the method (with stamps, a check
	// of the arrival method); FrameOrigin is where it took the segment
	// times to count from (originCapture, originStreamStart,
	// originCalibrated), OriginMismatches the conversations whose known
	// origin the calibration contradicted, ArrivalUnresolved the samples
	// it could not map to a frame.
	FrameMethod         string  `json:"frame_method,omitempty"`
	FrameArrivalLatency latency `json:"frame_arrival_latency"`
	FrameArrivalPreroll latency `json:"frame_arrival_preroll_latency"`
	FrameOrigin         string  `json:"frame_origin,omitempty"`
	OriginGroups        int     `json:"frame_origin_conversations"`
	OriginMismatches    int     `json:"frame_origin_mismatches"`
	ArrivalUnresolved   int     `json:"frame_arrival_unresolved"`

	// Client → upstream (channel frames: Channels per frame time and
	// session): frames sent in the window, and those that
	// arrived upstream; FrameLatency over the live ones, PrerollLatency
	// over the gate's held pre-roll (gate on).
	FramesSent    int `json:"frames_sent"`
	FramesArrived int `json:"frames_arrived"`
	// The whole run's frames, counted without stamps: sent by the
	// sessions, and binary messages the upstream received.
	FramesSentAll       int     `json:"frames_sent_all"`
	UpstreamAudioFrames int64   `json:"upstream_audio_frames"`
	PrerollFrames       int     `json:"preroll_frames"`
	ForwardedShare      float64 `json:"forwarded_share"`
	FrameLatency        latency `json:"frame_latency"`
	Over20BySecond      []int   `json:"frames_over_20ms_by_second,omitempty"`
	PrerollLatency      latency `json:"preroll_latency"`
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
	// CPUPerAudioSec is per second of one channel's audio (per
	// audio-second with one channel).
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
	// PacketSamples: a device codec's packet duration in samples, for
	// counting the gateway's decoded audio upstream (0 for raw PCM).
	PacketSamples int `json:"packet_samples,omitempty"`

	Pinned         bool   `json:"pinned"`
	TargetCPUs     int    `json:"target_cpus"`
	TargetAffinity string `json:"target_affinity"`
}

// fill computes a streaming run's figures and whether it passed.
func (r *Run) fill(kind string, n int, lr loadResult, rep upstreamReport, a, b snap,
	rssEnd, rssPeak int64, window time.Duration, o *options) {
	ch := max(r.Channels, 1)
	r.WindowSec = window.Seconds()
	r.AudioSec = float64(n*ch) * r.WindowSec
	r.FramesSent, r.FramesArrived, r.PrerollFrames = lr.Sent, rep.Frames, rep.Preroll
	r.FramesSentAll, r.UpstreamAudioFrames = lr.SentAll, rep.AudioFrames
	switch {
	case !r.Stamped && lr.SentAll > 0: // the window's frames are not known upstream
		r.ForwardedShare = float64(rep.AudioFrames) / float64(lr.SentAll)
	case r.Stamped && lr.Sent > 0:
		r.ForwardedShare = float64(rep.Frames) / float64(lr.Sent)
	}
	r.FrameLatency, r.PrerollLatency, r.Over20BySecond = rep.Live, rep.PrerollLate, rep.Over20BySecond
	r.FrameArrivalLatency, r.FrameArrivalPreroll = summarize(lr.ArrivalNs), summarize(lr.ArrivalPrerollNs)
	r.FrameOrigin = frameOrigin(kind)
	r.OriginGroups, r.OriginMismatches, r.ArrivalUnresolved = lr.OriginGroups, lr.OriginMismatches, lr.ArrivalUnresolved
	r.FrameMethod = methodStamp
	if !r.Stamped {
		r.FrameMethod = methodArrival
		r.FrameLatency, r.PrerollLatency = r.FrameArrivalLatency, r.FrameArrivalPreroll
	}
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
	r.CPUPerAudioSec = r.TargetCPUSec / (float64(n*ch) * dt)
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
	switch {
	case kind == kindGateOn: // the gate drops silence by design
	case r.Stamped && rep.Frames != lr.Sent:
		why("%d of %d frames arrived upstream", rep.Frames, lr.Sent)
	case !r.Stamped && (kind == kindRelay || r.PacketSamples == 0) && rep.AudioFrames != int64(lr.SentAll):
		why("%d of %d frames of the whole run arrived upstream", rep.AudioFrames, lr.SentAll)
	case !r.Stamped && kind != kindRelay && r.PacketSamples > 0 &&
		rep.AudioBytes != 2*int64(r.PacketSamples)*int64(lr.SentAll):
		// The gateway sends decoded PCM, and may send several packets'
		// audio in one message (a backlog): count the audio, not messages.
		why("%d of %d samples of the whole run's packets arrived upstream",
			rep.AudioBytes/2, int64(r.PacketSamples)*int64(lr.SentAll))
	}
	switch {
	case ch == 1 && rep.Streams != int64(n):
		why("%d upstream streams for %d sessions", rep.Streams, n)
	case ch > 1 && rep.Streams != int64(n*ch):
		why("%d upstream streams for %d sessions of %d channels", rep.Streams, n, ch)
	}
	switch {
	case r.FrameLatency.N == 0:
		why("no frame measured")
	case r.FrameLatency.P99 >= target:
		why("frame p99 %.1f ms", r.FrameLatency.P99)
	}
	switch {
	case r.ResultLatency.N == 0:
		why("no result measured")
	case r.ResultLatency.P99 >= target:
		why("result p99 %.1f ms", r.ResultLatency.P99)
	}
	r.Pass = len(r.Why) == 0
}
