package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"
)

func TestFramingsFlag(t *testing.T) {
	names := func(fss []framingSpec) []string {
		var out []string
		for _, fs := range fss {
			out = append(out, fs.Name)
		}
		return out
	}
	o, err := parseOptions(nil)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, names(o.framings), []string{"pcm16:100"}, "-codec and -frame-ms by default")
	td.Cmp(t, o.framings[0].Levels, o.levels)
	td.Cmp(t, o.framings[0].GateLevels, o.gateLevels)

	o, err = parseOptions([]string{"-codec", "opus_fs320"})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, o.framings, []framingSpec{{Name: "opus_fs320", Codec: "opus_fs320", Levels: o.levels, GateLevels: o.gateLevels}})

	o, err = parseOptions([]string{"-framings", "pcm16:20, opus_fs320,pcm16,opus", "-levels", "100,200", "-gate-levels", "50",
		"-framing-levels", "opus_fs320=10,20;pcm16=300", "-framing-gate-levels", "opus=5", "-label", "new build"})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, o.framings, []framingSpec{
		{Name: "pcm16:20", Codec: "pcm16", FrameMs: 20, Levels: []int{100, 200}, GateLevels: []int{50}},
		{Name: "opus_fs320", Codec: "opus_fs320", Levels: []int{10, 20}, GateLevels: []int{50}},
		{Name: "pcm16:100", Codec: "pcm16", FrameMs: 100, Levels: []int{300}, GateLevels: []int{50}},
		{Name: "opus", Codec: "opus", Levels: []int{100, 200}, GateLevels: []int{5}},
	})
	td.Cmp(t, o.label, "new build")

	for _, c := range []struct{ args, err string }{
		{"-framings pcm16:100 -codec opus", "-framings replaces -codec and -frame-ms"},
		{"-framings pcm16:100 -frame-ms 20", "-framings replaces -codec and -frame-ms"},
		{"-framings opus:20", `-framings: "opus:20": a frame length is for pcm16 and pcm8 only`},
		{"-framings pcm16:5", `-framings: "pcm16:5": the frame must be 10 to 1000 ms`},
		{"-framings flac", `-framings: unknown codec "flac"`},
		{"-framings opus,opus", "-framings: opus given twice"},
		{"-framings pcm16,pcm16:100", "-framings: pcm16:100 given twice"},
		{"-framings opus -framing-levels lc3=10", "-framing-levels: lc3 is not one of the run's framings"},
		{"-framings opus -framing-levels opus", `-framing-levels: "opus" is not <framing>=<levels>`},
		{"-framings opus -framing-gate-levels opus=20,10", "-framing-gate-levels: opus: counts must ascend"},
		{"-framings opus -framing-levels opus=", "-framing-levels: opus: no levels"},
	} {
		_, err := parseOptions(strings.Fields(c.args))
		td.Cmp(t, err, td.HasPrefix(c.err), c.args)
	}
}

// A run's framing, also of the JSON of harnesses before -framings.
func TestRunFraming(t *testing.T) {
	td.Cmp(t, runFraming(&Run{Framing: "opus"}), "opus")
	td.Cmp(t, runFraming(&Run{Codec: "pcm16", FrameMs: 20}), "pcm16:20")
	td.Cmp(t, runFraming(&Run{Codec: "opus_fs320", FrameMs: 20}), "opus_fs320")
	td.Cmp(t, runFraming(&Run{}), "pcm16:100", "before -codec")
}

// framingRuns is a run of two framings: pcm16 in 100 ms frames (stamped),
// and opus (measured from the arrival words), with relay levels.
func framingRuns(label string, cpu float64) *results {
	run := func(fr, config string, n int, pass bool) *Run {
		r := &Run{Framing: fr, Config: config, Sessions: n, Purpose: purposeCapacity, Pass: pass, WindowSec: 10,
			Pinned: true, TargetCPUs: 1, TargetAffinity: "0", TargetCores: 0.5, CPUPerAudioSec: cpu,
			Stamped: fr != "opus", FrameMethod: methodStamp, FrameLatency: latency{P99: 1.5}, ResultLatency: latency{P99: 2.5}}
		if config == kindRelay {
			r.CPUPerAudioSec = cpu / 4
		}
		if !r.Stamped {
			r.FrameMethod = methodArrival
		}
		if !pass {
			r.Why = []string{"result p99 25.0 ms"}
		}
		return r
	}
	res := &results{
		Label:    label,
		Machine:  machine{Cores: 2},
		Settings: settings{MaxLateMs: 200, Pin: true, TargetCPUs: 1, TargetCPUList: "0", LoadCPUList: "1"},
		Framings: []framingResult{{Name: "pcm16:100"}, {Name: "opus"}},
		Runs: []*Run{
			run("pcm16:100", kindGateOff, 300, true), run("pcm16:100", kindRelay, 300, true),
			run("pcm16:100", kindGateOff, 400, false), run("pcm16:100", kindRelay, 400, true),
			run("pcm16:100", kindGateOn, 200, true),
			run("opus", kindGateOff, 100, true), run("opus", kindRelay, 100, true), run("opus", kindGateOff, 150, false),
			run("opus", kindRelay, 150, false),
		},
	}
	res.summarize(&options{})
	return res
}

func TestFramingTables(t *testing.T) {
	res := framingRuns("after", 0.002)
	td.Cmp(t, res.ByFraming, []framingSummary{
		{Framing: "pcm16:100", GateOff: 300, GateOn: 200, Relay: 400, GateOffCPU: 0.002, GateOnCPU: 0.002, RelayCPU: 0.0005,
			RatioSessions: 300, Ratio: 4},
		{Framing: "opus", GateOff: 100, Relay: 100, GateOffCPU: 0.002, RelayCPU: 0.0005, RatioSessions: 100, Ratio: 4},
	})
	td.Cmp(t, res.markdown(), td.All(
		td.HasPrefix("Label: after.\n"),
		td.Contains("| framing | config | sessions | target CPUs | pace ok | frame p99 ms"),
		td.Contains("| pcm16:100 | gate-off | 300 | 1, pinned (CPU 0) | yes | 1.50 | 2.50 |"),
		td.Contains("| opus | gate-off | 100 | 1, pinned (CPU 0) | yes | 1.50* | 2.50 |"),
		td.Contains("\\* From the Results' arrival words"),
		td.Contains("| framing | config | largest passing sessions |"),
		td.Contains("| opus | relay | 100 | 100 | 0.50 |"),
		td.Contains("| framing | gate off: largest passing sessions |"),
		td.Contains("| pcm16:100 | 300 | 2.000 | 200 | 2.000 | 400 | 0.500 | 4.00× (300) |"),
		td.Contains("| opus | 100 | 2.000 | – | – | 100 | 0.500 | 4.00× (100) |"),
		td.Contains("| framing | sessions | gateway (gate off) CPU-ms"),
		td.Contains("| opus | 150 | 2.000 | 0.500 | 4.00× |"),
	))
}

func TestCompare(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, res *results) string {
		b, err := json.MarshalIndent(res, "", "  ")
		td.Require(t).CmpNoError(err)
		p := filepath.Join(dir, name)
		td.Require(t).CmpNoError(os.WriteFile(p, b, 0o644))
		return p
	}
	before := framingRuns("", 0.004)
	before.Runs[0].Pass, before.Runs[0].Why = false, []string{"frame p99 30.0 ms"}
	a := write("capacity-old.json", before)
	b := write("b.json", framingRuns("new", 0.002))
	var out strings.Builder
	td.Require(t).CmpNoError(mainCompare([]string{"-before", a, "-after", b}, &out))
	td.Cmp(t, out.String(), td.All(
		td.Contains("| framing | config | capacity-old: largest passing sessions | capacity-old: CPU-ms / audio-s there | "+
			"new: largest passing sessions | new: CPU-ms / audio-s there |"),
		td.Contains("| pcm16:100 | gate-off | – | – | 300 | 2.000 |"),
		td.Contains("| opus | relay | 100 | 1.000 | 100 | 0.500 |"),
		td.Contains("| framing | config | sessions | capacity-old: frame p99 ms |"),
		td.Contains(" CPU after ÷ before |"),
		td.Contains("| pcm16:100 | gate-off | 300 | 1.50 | 2.50 | 4.000 | no: frame p99 30.0 ms | 1.50 | 2.50 | 2.000 | yes | 0.50× |"),
		td.Contains("| opus | gate-off | 150 | 1.50* | 2.50 | 4.000 | no: result p99 25.0 ms | 1.50* |"),
	))
	lines := strings.Split(out.String(), "\n")
	td.Cmp(t, lines, td.SuperBagOf(td.HasPrefix("| pcm16:100 | gate-off | 300 |"), td.HasPrefix("| pcm16:100 | relay | 300 |"),
		td.HasPrefix("| pcm16:100 | gate-on | 200 |"), td.HasPrefix("| opus | relay | 150 |")))

	err := mainCompare([]string{a}, &out)
	td.CmpString(t, err, "compare: give two or more runs' JSON files (-before a.json -after b.json)")
}
