package main

import (
	"fmt"
	"strings"
)

// framingResult is one framing of a run: its frames (see framing), its
// name, levels, and what the upstream and the frame latency used.
type framingResult struct {
	Name string `json:"name"`
	framing
	Levels        []int  `json:"levels"`
	GateLevels    []int  `json:"gate_levels"`
	ResultEvery   int    `json:"result_every_frames"`
	PrerollFrames int    `json:"gate_preroll_frames"`
	FrameMethod   string `json:"frame_method"`
}

// framingSummary is the capacity of one framing of a run of several
// (-framings): the largest passing sessions of each configuration (0: none
// passed, or not run) and the target's CPU per audio-second there, and the
// gateway's (gate off) CPU per audio-second over the relay's at one level
// both ran: RatioSessions, the largest passing gate-off level, or when
// none passed the largest level both ran (0: none).
type framingSummary struct {
	Framing       string  `json:"framing"`
	GateOff       int     `json:"gate_off_sessions"`
	GateOn        int     `json:"gate_on_sessions"`
	Relay         int     `json:"relay_sessions"`
	GateOffCPU    float64 `json:"gate_off_cpu_sec_per_audio_sec"`
	GateOnCPU     float64 `json:"gate_on_cpu_sec_per_audio_sec"`
	RelayCPU      float64 `json:"relay_cpu_sec_per_audio_sec"`
	RatioSessions int     `json:"ratio_sessions"`
	Ratio         float64 `json:"gate_off_over_relay_cpu"`
}

// byFraming fills ByFraming from the summaries and the ratios, one entry
// per framing that has capacity runs.
func (res *results) byFraming() {
	for _, fr := range res.framingNames() {
		f := framingSummary{Framing: fr}
		for _, s := range res.Summary {
			if s.Framing != fr {
				continue
			}
			switch s.Config {
			case kindGateOff:
				f.GateOff, f.GateOffCPU = s.Sessions, s.CPUPerAudioSec
			case kindGateOn:
				f.GateOn, f.GateOnCPU = s.Sessions, s.CPUPerAudioSec
			case kindRelay:
				f.Relay, f.RelayCPU = s.Sessions, s.CPUPerAudioSec
			}
		}
		var at *ratio
		for i, q := range res.Ratios {
			switch {
			case q.Framing != fr:
			case q.Sessions == f.GateOff:
				at = &res.Ratios[i]
			case f.GateOff == 0 && (at == nil || q.Sessions > at.Sessions):
				at = &res.Ratios[i]
			}
		}
		if at != nil {
			f.RatioSessions, f.Ratio = at.Sessions, at.Ratio
		}
		res.ByFraming = append(res.ByFraming, f)
	}
}

// byFramingTable renders ByFraming (nothing when empty).
func (res *results) byFramingTable(b *strings.Builder) {
	if len(res.ByFraming) == 0 {
		return
	}
	cell := func(n int, cpu float64) string {
		if n == 0 {
			return "– | –"
		}
		return fmt.Sprintf("%d | %.3f", n, cpu*1e3)
	}
	b.WriteString("\n| framing | gate off: largest passing sessions | gate off: CPU-ms / audio-s | " +
		"gate on: largest passing sessions | gate on: CPU-ms / audio-s | relay: largest passing sessions | relay: CPU-ms / audio-s | " +
		"gate off ÷ relay CPU (at sessions) |\n|---|---|---|---|---|---|---|---|\n")
	for _, f := range res.ByFraming {
		ratio := "–"
		if f.RatioSessions > 0 {
			ratio = fmt.Sprintf("%.2f× (%d)", f.Ratio, f.RatioSessions)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", f.Framing, cell(f.GateOff, f.GateOffCPU), cell(f.GateOn, f.GateOnCPU),
			cell(f.Relay, f.RelayCPU), ratio)
	}
}
