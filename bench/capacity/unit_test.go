package main

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/deepgram"
)

func TestStampRoundTrip(t *testing.T) {
	pcm := make([]byte, frameBytes)
	for i := range pcm {
		pcm[i] = byte(i*7 + 3)
	}
	orig := append([]byte(nil), pcm...)
	want := stamp{Session: 1234, Seq: 98765, SentNs: 1_764_201_234_567_890_123}
	putStamp(pcm, want)

	got, ok := readStamp(pcm)
	td.CmpTrue(t, ok)
	td.Cmp(t, got, want)
	for i := range pcm {
		if i%2 == 1 || i >= 2*stampBytes {
			td.Cmp(t, pcm[i], orig[i], "byte %d: only the low bytes of the first samples change", i)
		}
	}

	_, ok = readStamp(pcm[:2*stampBytes-1])
	td.CmpFalse(t, ok, "too short")
	_, ok = readStamp(orig)
	td.CmpFalse(t, ok, "no magic")
}

func TestStampChangesSamplesByLessThanALowByte(t *testing.T) {
	pcm := make([]byte, frameBytes)
	for i := 0; i < len(pcm); i += 2 {
		binary.LittleEndian.PutUint16(pcm[i:], uint16(int16(-12000+i)))
	}
	before := append([]byte(nil), pcm...)
	putStamp(pcm, stamp{Session: ^uint32(0), Seq: ^uint32(0), SentNs: -1})
	for i := 0; i < len(pcm); i += 2 {
		a := int(int16(binary.LittleEndian.Uint16(before[i:])))
		b := int(int16(binary.LittleEndian.Uint16(pcm[i:])))
		td.CmpLte(t, max(a-b, b-a), 255, "sample %d", i/2)
	}
}

func TestScanStampWords(t *testing.T) {
	const a, b = 1764201234567890123, 1764201234999999999
	collect := func(s string) []int64 {
		var got []int64
		scanStampWords([]byte(s), func(ns int64) { got = append(got, ns) })
		return got
	}
	// A gateway segment: the text holds the punctuated words.
	seg := fmt.Sprintf(`[{"id":"6c0e-t1","text":"t%d. t%d.","speaker":"SPEAKER_0","start":0,"end":2.1}]`, a, b)
	td.Cmp(t, collect(seg), []int64{a, b})
	// The relay passes the Results itself: the word appears three times.
	res := string(appendResults(nil, 0, 16000, 16000, a, true, false))
	td.Cmp(t, collect(res), []int64{a, a, a})

	td.Cmp(t, collect(`"t176420123456789012"`), td.Nil(), "18 digits")
	td.Cmp(t, collect(`"t17642012345678901234"`), td.Nil(), "20 digits")
	td.Cmp(t, collect(`"at1764201234567890123"`), td.Nil(), "inside a word")
	td.Cmp(t, collect(`{"type":"service_status","status":"ready"}`), td.Nil())
	td.Cmp(t, collect(fmt.Sprintf("t%d", a)), []int64{a}, "whole text")
}

// The upstream's Results must be what the gateway's Deepgram provider
// parses: a final with one word carrying the stamp.
func TestResultsParseAsDeepgram(t *testing.T) {
	var p deepgram.Parser
	const ns = 1764201234567890123
	res, ok, err := p.Parse(appendResults(nil, 16000, 48000, 48000, ns, true, false))
	td.Require(t).CmpNoError(err)
	td.CmpTrue(t, ok)
	td.Cmp(t, res, td.SStruct(stages.Result{}, td.StructFields{
		"StartSec":    1.0,
		"DurationSec": 2.0,
		"IsFinal":     true,
		"SpeechFinal": true,
		"Words": td.Bag(td.SStruct(stages.Word{}, td.StructFields{
			"Word":       "t1764201234567890123",
			"Punctuated": "t1764201234567890123.",
			"StartSec":   2.9,
			"EndSec":     3.0,
			"Confidence": 1.0,
		})),
	}))

	res, ok, err = p.Parse(appendResults(nil, 48000, 48000, 48000, 0, false, true))
	td.Require(t).CmpNoError(err)
	td.CmpTrue(t, ok)
	td.Cmp(t, res.FromFinalize, true)
	td.Cmp(t, res.Words, td.Empty())

	_, ok, err = p.Parse(appendMetadata(nil, 48000))
	td.CmpNoError(t, err)
	td.CmpFalse(t, ok, "Metadata is skipped")
}

func TestPercentileAndSummarize(t *testing.T) {
	td.Cmp(t, percentile(nil, 99), int64(0))
	s := make([]int64, 100)
	for i := range s {
		s[i] = int64(i + 1)
	}
	td.Cmp(t, percentile(s, 50), int64(50))
	td.Cmp(t, percentile(s, 99), int64(99))
	td.Cmp(t, percentile(s, 99.9), int64(100))
	td.Cmp(t, percentile(s, 100), int64(100))
	td.Cmp(t, percentile([]int64{7}, 1), int64(7))

	ns := []int64{25e6, 1e6, 3e6, 2e6, 20e6} // unsorted; ms: 25, 1, 3, 2, 20
	td.Cmp(t, summarize(ns), latency{N: 5, P50: 3, P90: 25, P99: 25, P999: 25, Max: 25, Over20: 1})
	td.Cmp(t, summarize(nil), latency{})
}

func TestSearch(t *testing.T) {
	run := func(limit int, levels []int, refine int) (int, []int) {
		return search(levels, refine, 50, func(n int) bool { return n <= limit })
	}
	levels := []int{100, 200, 400, 600, 800}

	best, tried := run(650, levels, 1)
	td.Cmp(t, best, 600)
	td.Cmp(t, tried, []int{100, 200, 400, 600, 800, 700})

	best, tried = run(750, levels, 2)
	td.Cmp(t, best, 750)
	td.Cmp(t, tried, []int{100, 200, 400, 600, 800, 700, 750})

	best, tried = run(5000, levels, 1)
	td.Cmp(t, best, 800, "no failure: the last level")
	td.Cmp(t, tried, levels)

	best, tried = run(50, levels, 1)
	td.Cmp(t, best, 50, "first level fails: bisect below it")
	td.Cmp(t, tried, []int{100, 50})

	best, tried = run(10, []int{100, 150}, 3)
	td.Cmp(t, best, 0)
	td.Cmp(t, tried, []int{100, 50})

	best, tried = run(420, []int{400, 450}, 3)
	td.Cmp(t, best, 400, "levels a step apart: no bisection")
	td.Cmp(t, tried, []int{400, 450})
}

func TestProcParsing(t *testing.T) {
	// The command name may hold spaces and parentheses.
	stat := []byte("4242 (earshot (x) y) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 12 0 987 123456 789 18446744073709551615\n")
	cpu, err := parseStatCPU(stat)
	td.CmpNoError(t, err)
	td.Cmp(t, cpu, 3.25)
	_, err = parseStatCPU([]byte("4242 earshot S 1"))
	td.CmpError(t, err)
	_, err = parseStatCPU([]byte("4242 (e) S 1 2"))
	td.CmpError(t, err)

	status := []byte("Name:\tearshot\nVmPeak:\t  900000 kB\nVmRSS:\t   51234 kB\nThreads:\t9\n")
	kb, err := parseStatusKB(status, "VmRSS")
	td.CmpNoError(t, err)
	td.Cmp(t, kb, int64(51234))
	_, err = parseStatusKB(status, "VmSwap")
	td.CmpError(t, err)

	busy, total, err := parseProcStat([]byte("cpu  100 5 50 1000 20 1 2 3 7 0\ncpu0 1 2 3 4 5 6 7 8\n"))
	td.CmpNoError(t, err)
	td.Cmp(t, busy, 1.61)   // user nice system irq softirq steal: 161 ticks
	td.Cmp(t, total, 11.81) // guest times are left out: they are in user
	_, _, err = parseProcStat([]byte("intr 1 2 3\n"))
	td.CmpError(t, err)
}

// frames builds whole frames of constant amplitude: 'L' loud, 'q' quiet.
func frames(pattern string) []byte {
	var out []byte
	for i, c := range pattern {
		v := int16(20 + i) // quiet: about -64 dBFS; each frame distinct
		if c == 'L' {
			v = int16(8000 + i)
		}
		for range frameSamples {
			out = binary.LittleEndian.AppendUint16(out, uint16(v))
		}
	}
	return out
}

// ids names each frame of pcm by its (distinct) amplitude.
func ids(pcm []byte) []int {
	var out []int
	for f := range len(pcm) / frameBytes {
		v := int(int16(binary.LittleEndian.Uint16(pcm[f*frameBytes:])))
		if v >= 8000 {
			v -= 8000
		} else {
			v -= 20
		}
		out = append(out, v)
	}
	return out
}

func TestStretchPauses(t *testing.T) {
	// quiet 0-2, loud 3-4, quiet 5-9 (a pause of 5), loud 10, quiet 11-12
	pcm := frames("qqqLLqqqqqLqq")
	out, pauses := stretchPauses(pcm, 5, 8)
	td.Cmp(t, pauses, 2)
	td.Cmp(t, ids(out), []int{
		3, 4, // rotated to the first loud frame
		5, 6, 7, 8, 9, 5, 6, 7, // the pause, stretched to 8
		10,
		11, 12, 0, 1, 2, 11, 12, 0, // the trailing and leading silences: one pause of the loop
	})

	out, pauses = stretchPauses(frames("LqqL"), 5, 8)
	td.Cmp(t, pauses, 0, "short pauses stay")
	td.Cmp(t, ids(out), []int{0, 1, 2, 3})

	out, pauses = stretchPauses(frames("qqq")[:3*frameBytes-7], 1, 8)
	td.Cmp(t, pauses, 0, "all quiet: whole frames, unchanged")
	td.Cmp(t, ids(out), []int{0, 1})
}

func TestConversationFixture(t *testing.T) {
	c, err := loadConversation("../../fixtures/speech-synth/demo-16k.wav", 25)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, len(c.PCM)%frameBytes, 0)
	td.Cmp(t, c.Pauses, 8, "the 8 pauses of the loop, the file's ends joined into one")
	td.Cmp(t, c.Seconds, td.Between(36.0, 40.0))
	td.Cmp(t, c.QuietShare, td.Between(0.45, 0.6))
}

// The upstream counts the gate's pre-roll apart: after a gap in a
// stream's sequence, the next PrerollFrames frames arrive late by design.
func TestUpstreamPrerollClassification(t *testing.T) {
	u := newUpstream(upstreamConfig{PrerollFrames: 3, ResultEvery: 1 << 30})
	s := &upStream{u: u}
	frame := make([]byte, frameBytes)
	for _, seq := range []uint32{0, 1, 2 /* gap */, 10, 11, 12, 13, 14 /* gap */, 20, 21 /* gap */, 30, 31, 32, 33} {
		putStamp(frame, stamp{Session: 1, Seq: seq, SentNs: int64(seq) * 1e8})
		s.buf = frame
		s.audio(int64(seq)*1e8 + 1e6)
	}
	var pre []bool
	for _, r := range s.recs {
		pre = append(pre, r.Preroll)
		td.Cmp(t, r.LatNs, int64(1e6))
	}
	td.Cmp(t, pre, []bool{
		true, true, true, // the stream's first frames may be pre-roll too
		true, true, true, false, false,
		true, true, // a gap again before the pre-roll ended: a new one starts
		true, true, true, false,
	})
	td.Cmp(t, s.samples, int64(14*frameSamples))
}

func TestParseMetrics(t *testing.T) {
	text := []byte(`# TYPE go_goroutines gauge
go_goroutines 812
go_gc_duration_seconds{quantile="0.5"} 0.0001
go_gc_duration_seconds_count 42
go_memstats_next_gc_bytes 1.048576e+07
earshot_sessions_active 100
`)
	m, err := parseMetrics(text, []string{"go_goroutines", "go_gc_duration_seconds_count", "go_memstats_next_gc_bytes"})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, m, map[string]float64{
		"go_goroutines": 812, "go_gc_duration_seconds_count": 42, "go_memstats_next_gc_bytes": 10485760,
	})
	_, err = parseMetrics(text, []string{"go_threads"})
	td.CmpString(t, err, "metric go_threads missing")

	idle := map[string]float64{"go_memstats_next_gc_bytes": 4 << 20, "go_memstats_stack_inuse_bytes": 1 << 20, "go_goroutines": 10}
	a := map[string]float64{"go_gc_cpu_seconds_total": 1, "go_gc_duration_seconds_count": 5,
		"go_memstats_mallocs_total": 1000, "go_memstats_alloc_bytes_total": 1 << 20}
	b := map[string]float64{"go_gc_cpu_seconds_total": 1.5, "go_gc_duration_seconds_count": 9,
		"go_memstats_mallocs_total": 5000, "go_memstats_alloc_bytes_total": 11 << 20,
		"go_memstats_next_gc_bytes": 104 << 20, "go_memstats_stack_inuse_bytes": 9 << 20, "go_goroutines": 810}
	td.Cmp(t, newGatewayStats(idle, a, b, 2, 400, 100, 20), &gatewayStats{
		GCShare: 0.25, GCCycles: 4, AllocsPerFrame: 10, AllocKBPerAudioSec: 512,
		HeapGoalKBPerSession: 1024, StackKBPerSession: 81.92, GoroutinesPerSession: 8,
	})
}

func TestCPUList(t *testing.T) {
	td.Cmp(t, cpuList(nil), "")
	td.Cmp(t, cpuList([]int{0}), "0")
	td.Cmp(t, cpuList([]int{0, 1}), "0-1", "the kernel writes two in a row as a range")
	td.Cmp(t, cpuList([]int{1, 2, 3}), "1-3")
	td.Cmp(t, cpuList([]int{0, 2, 3, 5, 7, 8, 9}), "0,2-3,5,7-9")
}

func TestPlanPin(t *testing.T) {
	p, err := planPin([]int{0, 1})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, p.Target, []int{0})
	td.Cmp(t, p.Load, []int{1})

	allowed := []int{2, 3, 4, 6}
	p, err = planPin(allowed)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, p.Target, []int{2}, "the first CPU this process may use")
	td.Cmp(t, p.Load, []int{3, 4, 6})
	p.Target = append(p.Target, 9) // capped: does not write into allowed
	p.Load[0] = 9
	td.Cmp(t, allowed, []int{2, 3, 4, 6})

	_, err = planPin([]int{0})
	td.Require(t).CmpError(err)
	td.Cmp(t, err.Error(), td.All(td.Contains("at least 2 CPUs"), td.Contains("may use 1 (0)"), td.Contains("-pin=false")))
	_, err = planPin(nil)
	td.CmpError(t, err)
}

func TestPinCommands(t *testing.T) {
	var unpinned *pinPlan
	bin, args := unpinned.targetCommand("/tmp/earshot", []string{"serve", "--addr", "127.0.0.1:0"})
	td.Cmp(t, bin, "/tmp/earshot")
	td.Cmp(t, args, []string{"serve", "--addr", "127.0.0.1:0"})
	bin, args = unpinned.loadCommand("/tmp/capacity", []string{"upstream"})
	td.Cmp(t, bin, "/tmp/capacity")
	td.Cmp(t, args, []string{"upstream"})
	td.Cmp(t, unpinned.targetEnv(), td.Nil())

	p := &pinPlan{Target: []int{0}, Load: []int{1, 2, 3}, taskset: "/usr/bin/taskset"}
	bin, args = p.targetCommand("/tmp/earshot", []string{"serve", "--addr", "127.0.0.1:0"})
	td.Cmp(t, bin, "/usr/bin/taskset")
	td.Cmp(t, args, []string{"-c", "0", "/tmp/earshot", "serve", "--addr", "127.0.0.1:0"})
	bin, args = p.loadCommand("/tmp/capacity", []string{"upstream", "-addr", "127.0.0.1:0"})
	td.Cmp(t, bin, "/usr/bin/taskset")
	td.Cmp(t, args, []string{"-c", "1-3", "/tmp/capacity", "upstream", "-addr", "127.0.0.1:0"})
	td.Cmp(t, p.targetEnv(), []string{"GOMAXPROCS=1"})
}

func TestParseStatusField(t *testing.T) {
	status := []byte("Name:\tearshot\nCpus_allowed:\t1\nCpus_allowed_list:\t0\nMems_allowed_list:\t0\n")
	l, err := parseStatusField(status, "Cpus_allowed_list")
	td.CmpNoError(t, err)
	td.Cmp(t, l, "0")
	l, err = parseStatusField(status, "Cpus_allowed")
	td.CmpNoError(t, err)
	td.Cmp(t, l, "1", "a name is the whole key, not a prefix of a longer one")
	_, err = parseStatusField(status, "VmRSS")
	td.CmpString(t, err, "status: no VmRSS line")
}

// pinnedResults is a run's results with two gate-off levels and one relay
// level, pinned or not.
func pinnedResults(pinned bool, env ...string) *results {
	run := func(config string, n int, pass bool) *Run {
		r := &Run{Config: config, Sessions: n, Purpose: purposeCapacity, Pass: pass, WindowSec: 15,
			Pinned: pinned, TargetCPUs: 2, TargetAffinity: "0-1", TargetCores: 0.5, CPUPerAudioSec: 0.001}
		if pinned {
			r.TargetCPUs, r.TargetAffinity = 1, "0"
		}
		return r
	}
	res := &results{
		Machine:  machine{Cores: 2},
		Settings: settings{MaxLateMs: 200, TargetCPUs: 2, GatewayEnv: env},
		Runs:     []*Run{run(kindGateOff, 300, true), run(kindGateOff, 400, false), run(kindRelay, 300, true)},
	}
	if pinned {
		res.Settings.Pin, res.Settings.TargetCPUs, res.Settings.TargetCPUList, res.Settings.LoadCPUList = true, 1, "0", "1"
	}
	res.summarize(&options{})
	return res
}

func TestPinnedSummaryAndTables(t *testing.T) {
	res := pinnedResults(true)
	td.Cmp(t, res.Summary, td.Bag(
		td.SStruct(summary{Config: kindGateOff, Sessions: 300, FailedAbove: true, Pinned: true, PerCoreOf: 1,
			SessionsPerCore: 300}, td.StructFields{"=*": td.Ignore()}),
		td.SStruct(summary{Config: kindRelay, Sessions: 300, Pinned: true, PerCoreOf: 1,
			SessionsPerCore: 300}, td.StructFields{"=*": td.Ignore()}),
	), "pinned: the sessions on the target's one core")
	md := res.markdown()
	td.Cmp(t, md, td.All(
		td.Contains("Pinned: the target (earshot serve or the relay) ran on CPU 0 only with GOMAXPROCS=1; "+
			"the upstream and the load generator on CPU 1. Sessions on the target's one core (pinned): the largest passing sessions ÷ 1."),
		td.Contains("| config | sessions | target CPUs | pace ok |"),
		td.Contains("| gate-off | 300 | 1, pinned (CPU 0) | yes |"),
		td.Contains("| config | largest passing sessions | sessions on the target's one core (pinned) | target cores used there |"),
		td.Contains("| gate-off | 300 | 300 | 0.50 | 600 |"),
		td.Not(td.Contains("÷ all cores")),
	))

	res = pinnedResults(true, "GOGC=400", "GOMAXPROCS=2")
	td.Cmp(t, res.markdown(), td.All(
		td.Contains("with GOMAXPROCS=1 (earshot serve: GOMAXPROCS=2, from -gateway-env);"),
		td.Contains("earshot serve ran with GOGC=400 GOMAXPROCS=2."),
	))

	res = pinnedResults(false)
	td.Cmp(t, res.Summary, td.Bag(
		td.SStruct(summary{Config: kindGateOff, Sessions: 300, FailedAbove: true, PerCoreOf: 2,
			SessionsPerCore: 150}, td.StructFields{"Pinned": false, "=*": td.Ignore()}),
		td.SStruct(summary{Config: kindRelay, Sessions: 300, PerCoreOf: 2,
			SessionsPerCore: 150}, td.StructFields{"Pinned": false, "FailedAbove": false, "=*": td.Ignore()}),
	), "unpinned: ÷ all the machine's cores")
	md = res.markdown()
	td.Cmp(t, md, td.All(
		td.Contains("Not pinned: the target, the upstream and the load generator shared all 2 cores;"),
		td.Contains("| gate-off | 300 | 2, shared | yes |"),
		td.Contains("| config | largest passing sessions | sessions per core (÷ all cores) | target cores used there |"),
		td.Contains("| relay | 300 (no failing level run) | 150 |"),
		td.Contains("| gate-off | 300 | 150 | 0.50 | 600 |"),
		td.Not(td.Contains("target's one core")),
	))
}
