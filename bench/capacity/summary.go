package main

import "slices"

// summary is a configuration's capacity at one framing.
type summary struct {
	Framing string `json:"framing,omitempty"`
	Config  string `json:"config"`
	// Largest passing session count (client sessions), and whether a
	// level above it was run and failed (false: the search ran out of
	// levels). Each session had Channels channels: UpstreamSockets is
	// Sessions·Channels.
	Sessions        int  `json:"sessions"`
	Channels        int  `json:"channels"`
	UpstreamSockets int  `json:"upstream_sockets"`
	FailedAbove     bool `json:"failed_above"`
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

// ratio compares the gateway (gate off) with the relay at one level of
// one framing.
type ratio struct {
	Framing    string  `json:"framing,omitempty"`
	Sessions   int     `json:"sessions"`
	Gateway    float64 `json:"gateway_cpu_sec_per_audio_sec"`
	Relay      float64 `json:"relay_cpu_sec_per_audio_sec"`
	Ratio      float64 `json:"ratio"`
	GatewayRSS float64 `json:"gateway_rss_per_session_kb"`
	RelayRSS   float64 `json:"relay_rss_per_session_kb"`
}

// counted reports whether r is a capacity run that counts: of kind at
// framing fr (a name, "" for runs that name none), not spoiled.
func counted(r *Run, kind, fr string) bool {
	return r.Config == kind && r.Framing == fr && r.Purpose == purposeCapacity && !r.Spoiled
}

// framingNames lists the framings of res's capacity runs, in the order
// they first ran.
func (res *results) framingNames() []string {
	var names []string
	for _, r := range res.Runs {
		if r.Purpose == purposeCapacity && !slices.Contains(names, r.Framing) {
			names = append(names, r.Framing)
		}
	}
	return names
}

// summarize fills the summaries, the ratios and, with several framings,
// the capacity by framing.
func (res *results) summarize(o *options) {
	res.Summary, res.Ratios, res.ByFraming = nil, nil, nil
	for _, fr := range res.framingNames() {
		res.summarizeFraming(fr)
	}
	if len(res.Framings) > 1 {
		res.byFraming()
	}
}

// summarizeFraming adds the summaries and the ratios of framing fr.
func (res *results) summarizeFraming(fr string) {
	for _, kind := range []string{kindGateOff, kindGateOn, kindRelay} {
		var best *Run
		failedAbove := false
		for _, r := range res.Runs {
			if counted(r, kind, fr) && r.Pass && (best == nil || r.Sessions > best.Sessions) {
				best = r
			}
		}
		if best == nil {
			continue
		}
		for _, r := range res.Runs {
			if counted(r, kind, fr) && !r.Pass && r.Sessions > best.Sessions {
				failedAbove = true
			}
		}
		cores := res.Machine.Cores
		if best.Pinned && best.TargetCPUs > 0 {
			cores = best.TargetCPUs
		}
		ch := max(best.Channels, 1)
		s := summary{
			Framing: fr, Config: kind, Sessions: best.Sessions, Channels: ch, UpstreamSockets: best.Sessions * ch, FailedAbove: failedAbove,
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
		if !counted(g, kindGateOff, fr) {
			continue
		}
		for _, rl := range res.Runs {
			if counted(rl, kindRelay, fr) && rl.Sessions == g.Sessions && rl.CPUPerAudioSec > 0 {
				res.Ratios = append(res.Ratios, ratio{
					Framing: fr, Sessions: g.Sessions, Gateway: g.CPUPerAudioSec, Relay: rl.CPUPerAudioSec,
					Ratio:      g.CPUPerAudioSec / rl.CPUPerAudioSec,
					GatewayRSS: g.RSSPerSessionKB, RelayRSS: rl.RSSPerSessionKB,
				})
			}
		}
	}
}
