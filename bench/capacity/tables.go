package main

import (
	"fmt"
	"strings"
)

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

// markdown renders the tables for bench/README.md. With several framings
// (-framings) every row starts with its framing, and a table of the
// capacity by framing follows the summary.
func (res *results) markdown() string {
	var b strings.Builder
	m := res.Machine
	if res.Label != "" {
		fmt.Fprintf(&b, "Label: %s.\n\n", res.Label)
	}
	fmt.Fprintf(&b, "Machine: %d cores (%s), %.0f GiB, Linux %s, %s; 1-minute load average %.2f at the start.\n\n",
		m.Cores, m.CPUModel, float64(m.MemTotalKB)/(1<<20), m.Kernel, m.GoVersion, res.Load1AtStart)
	b.WriteString(res.pinSentence() + "\n\n")
	// fc starts a row with its framing, fh and fs the headers.
	multi := len(res.Framings) > 1
	fc, fh, fs := func(string) string { return "" }, "", ""
	if multi {
		fc, fh, fs = func(name string) string { return "| " + name + " " }, "| framing ", "|---"
		for i := range res.Framings {
			fmt.Fprintf(&b, "Frames (%s): %s\n\n", res.Framings[i].Name, res.Framings[i].sentence())
		}
	} else {
		b.WriteString("Frames: " + res.Framing.sentence() + "\n\n")
	}
	if len(res.Settings.GatewayEnv) > 0 {
		fmt.Fprintf(&b, "earshot serve ran with %s.\n\n", strings.Join(res.Settings.GatewayEnv, " "))
	}
	// With several channels: a column of upstream sockets after the
	// sessions, and CPU per channel-audio-second. One channel's tables
	// are those of the first runs.
	ch := max(res.Settings.Channels, 1)
	audio, sockets, sockSep := "audio-s", "", ""
	cell := func(int) string { return "" }
	if ch > 1 {
		fmt.Fprintf(&b, "Channels: %d per session. Sessions are client sessions; each sends a frame per channel "+
			"([id][payload], ids 1..%d) and the target opens an upstream socket per channel, so upstream sockets = "+
			"sessions × %d. CPU per channel-audio-s is the target's CPU ÷ (sessions × %d channels × window); "+
			"RSS per session is per client session.\n\n", ch, ch, ch, ch)
		audio, sockets, sockSep = "channel-audio-s", " upstream sockets |", "---|"
		cell = func(n int) string { return fmt.Sprintf(" %d |", n*ch) }
	}
	b.WriteString(fh + "| config | sessions |" + sockets + " target CPUs | pace ok | frame p99 ms (client → upstream) | result p99 ms (upstream → client) | " +
		"target CPU-ms / " + audio + " | target cores | RSS KB / session | upstream + harness cores | outside cores | pass |\n")
	b.WriteString(fs + "|---|---|" + sockSep + "---|---|---|---|---|---|---|---|---|---|\n")
	arrival := false
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
		if r.Spoiled {
			verdict = fmt.Sprintf("not counted (outside %.2f cores); %s", r.OutsideCores, verdict)
		}
		arrival = arrival || strings.HasSuffix(r.frameP99(), "*")
		fmt.Fprintf(&b, "%s| %s | %d |%s %s | %s | %s | %.2f | %.3f | %.2f | %.0f | %.2f | %.2f | %s |\n", fc(r.Framing),
			r.Config, r.Sessions, cell(r.Sessions), r.targetCPUsCell(), pace, r.frameP99(), r.ResultLatency.P99, r.CPUPerAudioSec*1e3,
			r.TargetCores, r.RSSPerSessionKB, (r.UpstreamCPUSec+r.HarnessCPUSec)/r.WindowSec, r.OutsideCores,
			verdict)
	}
	if arrival {
		b.WriteString("\n\\* From the Results' arrival words: one sample per Results and session, the arrival upstream of the last " +
			"frame it covers less that frame's send time (device codecs' frames carry no stamp); with the gate active, " +
			"the segments' time origin is calibrated per session (see bench/capacity/arrival.go).\n")
	}
	b.WriteString("\n" + fh + "| config | largest passing sessions |" + sockets + " " + perCoreHeader(res.Settings.Pin, res.Settings.TargetCPUs) +
		" | target cores used there | " +
		"sessions per core of the target's own CPU | CPU-ms / " + audio + " | RSS KB / session |\n" + fs + "|---|---|" + sockSep + "---|---|---|---|---|\n")
	for _, s := range res.Summary {
		note := ""
		if !s.FailedAbove {
			note = " (no failing level run)"
		}
		fmt.Fprintf(&b, "%s| %s | %d%s |%s %.0f | %.2f | %.0f | %.3f | %.0f |\n", fc(s.Framing), s.Config, s.Sessions, note, cell(s.Sessions),
			s.SessionsPerCore, s.TargetCores, s.SessionsPerTargetCore, s.CPUPerAudioSec*1e3, s.RSSPerSessionKB)
	}
	res.byFramingTable(&b)
	if len(res.Ratios) > 0 {
		b.WriteString("\n" + fh + "| sessions |" + sockets + " gateway (gate off) CPU-ms / " + audio + " | bare relay CPU-ms / " + audio + " | ratio | " +
			"gateway RSS KB / session | relay RSS KB / session |\n" + fs + "|---|" + sockSep + "---|---|---|---|---|\n")
		for _, q := range res.Ratios {
			fmt.Fprintf(&b, "%s| %d |%s %.3f | %.3f | %.2f× | %.0f | %.0f |\n", fc(q.Framing), q.Sessions, cell(q.Sessions), q.Gateway*1e3, q.Relay*1e3,
				q.Ratio, q.GatewayRSS, q.RelayRSS)
		}
	}
	gw := false
	for _, r := range res.Runs {
		if r.Gateway == nil {
			continue
		}
		if !gw {
			frame := "frame"
			if ch > 1 {
				frame = "channel frame"
			}
			b.WriteString("\n" + fh + "| gateway run | config | sessions |" + sockets + " GC share of its CPU | GC cycles / s | allocations / " + frame + " | " +
				"KB allocated / " + audio + " | heap goal KB / session | stacks KB / session | goroutines / session |\n" +
				fs + "|---|---|---|" + sockSep + "---|---|---|---|---|---|---|\n")
			gw = true
		}
		g := r.Gateway
		cycles := "–"
		if r.WindowSec > 0 {
			cycles = fmt.Sprintf("%.2f", g.GCCycles/r.WindowSec)
		}
		fmt.Fprintf(&b, "%s| %s | %s | %d |%s %.0f%% | %s | %.1f | %.1f | %.0f | %.1f | %.1f |\n", fc(r.Framing), r.Purpose, r.Config, r.Sessions,
			cell(r.Sessions), 100*g.GCShare, cycles, g.AllocsPerFrame, g.AllocKBPerAudioSec, g.HeapGoalKBPerSession,
			g.StackKBPerSession, g.GoroutinesPerSession)
	}
	mem := false
	for _, r := range res.Runs {
		if r.Purpose == purposeCapacity {
			continue
		}
		if !mem {
			b.WriteString("\n" + fh + "| memory run | config | sessions |" + sockets + " RSS before MB | RSS with the sessions MB | KB per session | " +
				"idle: KB per session 3 s after the last connected |\n" + fs + "|---|---|---|" + sockSep + "---|---|---|---|\n")
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
		fmt.Fprintf(&b, "%s| %s | %s | %d |%s %.1f | %.1f | %.1f | %s |\n", fc(r.Framing), what, r.Config, r.Sessions, cell(r.Sessions),
			float64(r.RSSBeforeKB)/1024, float64(r.RSSEndKB)/1024, r.RSSPerSessionKB, settle)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(&b, "\nNote: %s\n", n)
	}
	return b.String()
}

// line is a run's progress line.
func (r *Run) line() string {
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL (" + strings.Join(r.Why, "; ") + ")"
	}
	sessions, audio := "sessions", "audio-s"
	if r.Channels > 1 {
		sessions = fmt.Sprintf("sessions × %d channels (%d upstream sockets)", r.Channels, r.Sessions*r.Channels)
		audio = "channel-audio-s"
	}
	if r.Purpose == purposeIdle {
		return fmt.Sprintf("%-8s %5d idle %s: RSS %.0f → %.0f MB, %.1f KB/session 3 s after the last connected, "+
			"%.1f KB/session after %.0f s idle %s",
			r.Config, r.Sessions, sessions, float64(r.RSSBeforeKB)/1024, float64(r.RSSEndKB)/1024, r.RSSSettlePerSessionKB,
			r.RSSPerSessionKB, r.IdleHoldS, verdict)
	}
	what := r.Purpose
	if r.Framing != "" {
		what += ", " + r.Framing
	}
	frame := r.frameP99()
	if r.Stamped && r.FrameArrivalLatency.N > 0 { // the arrival words' figure beside the stamps'
		frame += fmt.Sprintf(" (arrival words: %.2f, %d samples)", r.FrameArrivalLatency.P99, r.FrameArrivalLatency.N)
	}
	return fmt.Sprintf("%-8s %5d %s (%s): frame p99 %s ms, result p99 %.2f ms, late %.0f ms, "+
		"%.2f cores = %.3f CPU-ms/%s, RSS %.0f KB/session, upstream %.2f, harness %.2f, outside %.2f cores; %s",
		r.Config, r.Sessions, sessions, what, frame, r.ResultLatency.P99, r.MaxLateMs,
		r.TargetCores, r.CPUPerAudioSec*1e3, audio, r.RSSPerSessionKB,
		r.UpstreamCPUSec/r.WindowSec, r.HarnessCPUSec/r.WindowSec, r.OutsideCores, verdict)
}

// The frame latency's methods (Run.FrameMethod).
const (
	methodStamp   = "stamp"
	methodArrival = "arrival"
)

// frameP99 is the client → upstream p99 in ms, marked "*" when measured
// from the arrival words (one sample per Results), or "–" when not
// measured (runs of harnesses before the arrival words, with a device
// codec).
func (r *Run) frameP99() string {
	switch {
	case r.Stamped:
		return fmt.Sprintf("%.2f", r.FrameLatency.P99)
	case r.FrameMethod == methodArrival:
		return fmt.Sprintf("%.2f*", r.FrameLatency.P99)
	}
	return "–"
}
