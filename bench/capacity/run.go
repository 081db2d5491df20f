package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"earshot/stages/gate"
)

// The configurations measured.
const (
	kindGateOff = "gate-off" // earshot serve --vad-gate off
	kindGateOn  = "gate-on"  // earshot serve --vad-gate active
	kindRelay   = "relay"    // the bare relay
)

// Keys: the load generator's toward the gateway, the gateway's toward the
// upstream.
const (
	clientKey   = "capacity-client-key"
	upstreamKey = "capacity-upstream-key"
)

// Purposes of a run.
const (
	purposeCapacity = "capacity"
	purposeFullRing = "memory-full-ring"
	purposeIdle     = "idle"
)

type options struct {
	out, png     string
	earshot      string
	configs      []string
	levels       []int
	gateLevels   []int
	refine, step int
	window, warm time.Duration
	maxRamp      time.Duration
	tail         time.Duration
	maxLate      time.Duration
	target       time.Duration
	memSessions  int
	memWindow    time.Duration
	idleSessions int
	idleHold     time.Duration
	quietLoad    float64
	quietWait    time.Duration
	pauseFrames  int
	plot         bool
	pin          bool
	gatewayEnv   []string
}

func parseOptions(args []string) (*options, error) {
	fs := flag.NewFlagSet("capacity", flag.ContinueOnError)
	o := &options{}
	var configs, levels, gateLevels, gatewayEnv string
	fs.StringVar(&o.out, "out", "bench/out", "folder for the results (JSON, tables, plot)")
	fs.StringVar(&o.png, "png", "bench/capacity.png", "where to copy the plot for the README (empty: nowhere)")
	fs.StringVar(&o.earshot, "earshot", "", "earshot binary to run (default: go build ./cmd/earshot into a temporary folder)")
	fs.StringVar(&configs, "configs", "gate-off,relay,gate-on", "configurations: gate-off, relay (run at gate-off's levels), gate-on")
	fs.StringVar(&levels, "levels", "200,400,600,800,1000,1200,1600,2000", "session counts tried in order until one fails (gate off)")
	fs.StringVar(&gateLevels, "gate-levels", "100,200,300,400,500,600,800,1000", "session counts tried in order with the gate on")
	fs.IntVar(&o.refine, "refine", 1, "bisections between the last passing and the first failing level")
	fs.IntVar(&o.step, "step", 50, "bisection granularity, sessions")
	fs.DurationVar(&o.window, "window", 15*time.Second, "measurement window of each level")
	fs.DurationVar(&o.warm, "warm", 2*time.Second, "steady streaming after the last session started, before the window")
	fs.DurationVar(&o.maxRamp, "max-ramp", 5*time.Second, "sessions start 5 ms apart, over at most this long")
	fs.DurationVar(&o.tail, "tail", 1500*time.Millisecond, "streaming after the window (the window's results arrive)")
	fs.DurationVar(&o.maxLate, "max-late", 200*time.Millisecond, "real-time pace: no frame sent later than this behind its schedule")
	fs.DurationVar(&o.target, "target", 20*time.Millisecond, "p99 added latency a level must stay under, both directions")
	fs.IntVar(&o.memSessions, "mem-sessions", 200, "sessions of the full-replay-ring memory run (0: skip)")
	fs.DurationVar(&o.memWindow, "mem-window", 35*time.Second, "window of the memory run (over 30 s, so the rings fill)")
	fs.IntVar(&o.idleSessions, "idle-sessions", 1000, "sessions of the idle memory runs (0: skip)")
	fs.DurationVar(&o.idleHold, "idle-hold", 150*time.Second,
		"how long the idle sessions stay before their memory is read again (past the runtime's 2-minute forced GC)")
	fs.Float64Var(&o.quietLoad, "quiet-load", 0.5, "wait for the 1-minute load average to fall below this before starting")
	fs.DurationVar(&o.quietWait, "quiet-wait", 10*time.Minute, "wait at most this long for a quiet machine, then run anyway")
	fs.IntVar(&o.pauseFrames, "pause-frames", 25, "the conversation's pauses are stretched to this many 100 ms frames")
	fs.StringVar(&gatewayEnv, "gateway-env", "", "extra environment of earshot serve, comma-separated KEY=VALUE (e.g. GOGC=400); "+
		"a GOMAXPROCS here wins over -pin's GOMAXPROCS=1")
	fs.BoolVar(&o.pin, "pin", true, "pin the target (earshot serve or the relay) to the first CPU with GOMAXPROCS=1, and the upstream "+
		"and this load generator to the other CPUs, so that sessions per core are the target's one core "+
		"(Linux, 2 or more CPUs, taskset from util-linux); false: all share every core")
	fs.BoolVar(&o.plot, "plot", true, "draw the PNG (go run in bench/capacity/plot, a nested module)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	if o.levels, err = parseInts(levels); err != nil {
		return nil, fmt.Errorf("-levels: %w", err)
	}
	if o.gateLevels, err = parseInts(gateLevels); err != nil {
		return nil, fmt.Errorf("-gate-levels: %w", err)
	}
	for kv := range strings.SplitSeq(gatewayEnv, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return nil, fmt.Errorf("-gateway-env: %q is not KEY=VALUE", kv)
		}
		o.gatewayEnv = append(o.gatewayEnv, kv)
	}
	for c := range strings.SplitSeq(configs, ",") {
		switch c = strings.TrimSpace(c); c {
		case kindGateOff, kindGateOn, kindRelay:
			o.configs = append(o.configs, c)
		case "":
		default:
			return nil, fmt.Errorf("-configs: unknown %q", c)
		}
	}
	return o, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad count %q", f)
		}
		out = append(out, n)
	}
	if !slices.IsSorted(out) {
		return nil, errors.New("counts must ascend")
	}
	return out, nil
}

// harness runs the levels and keeps the results.
type harness struct {
	o        *options
	pin      *pinPlan // nil: not pinned
	pinShown bool     // the children's affinity was printed
	root     string
	earshot  string
	self     string
	vadModel string
	conv     *conversation
	res      *results
	jsonPath string
}

func mainRun(args []string) error {
	o, err := parseOptions(args)
	if err != nil {
		return err
	}
	root, err := findRoot()
	if err != nil {
		return err
	}
	h := &harness{o: o, root: root, vadModel: filepath.Join(root, ".cache/silero/silero_vad_v6.onnx")}
	if o.pin {
		if h.pin, err = preparePin(); err != nil {
			return err
		}
	}
	if h.self, err = os.Executable(); err != nil {
		return err
	}
	if !filepath.IsAbs(o.out) {
		o.out = filepath.Join(root, o.out)
	}
	if o.png != "" && !filepath.IsAbs(o.png) {
		o.png = filepath.Join(root, o.png)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if h.conv, err = loadConversation(filepath.Join(root, "fixtures/speech-synth/demo-16k.wav"), o.pauseFrames); err != nil {
		return err
	}
	if h.earshot = o.earshot; h.earshot == "" {
		tmp, err := os.MkdirTemp("", "earshot-capacity")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		h.earshot = filepath.Join(tmp, "earshot")
		build := exec.Command("go", "build", "-o", h.earshot, "./cmd/earshot")
		build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building earshot: %w", err)
		}
	}
	if h.pin != nil {
		// After the build, which may use every core. The children are
		// started under taskset on their own CPUs.
		if err := pinSelf(h.pin.Load); err != nil {
			return fmt.Errorf("-pin: %w", err)
		}
		runtime.GOMAXPROCS(len(h.pin.Load))
		fmt.Printf("pinned: the target on CPU %s with GOMAXPROCS=1, the upstream and the load generator on CPU %s "+
			"(the load generator with GOMAXPROCS=%d)\n", cpuList(h.pin.Target), cpuList(h.pin.Load), len(h.pin.Load))
	}
	load := waitQuiet(o.quietLoad, o.quietWait)
	h.res = newResults(o, h.conv, load, h.pin)
	h.jsonPath = filepath.Join(o.out, "capacity-"+time.Now().Format("20060102-150405")+".json")
	fmt.Printf("capacity: %d cores, load average %.2f at start; results in %s\n", runtime.NumCPU(), load, h.jsonPath)
	fmt.Printf("conversation: %.1f s loop, %d pauses stretched to %.1f s, %.0f%% quiet frames\n",
		h.conv.Seconds, h.conv.Pauses, h.conv.PauseSeconds, 100*h.conv.QuietShare)

	if err := h.runAll(); err != nil {
		_ = h.save()
		return err
	}
	h.res.Finished = time.Now()
	h.res.summarize(o)
	if err := h.save(); err != nil {
		return err
	}
	md := h.res.markdown()
	if err := os.WriteFile(filepath.Join(o.out, "capacity.md"), []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Println()
	fmt.Print(md)
	if o.plot {
		h.plot()
	}
	return nil
}

// runAll runs every configured search, then the memory runs.
func (h *harness) runAll() error {
	o := h.o
	var runErr error
	level := func(kind string) func(n int) bool {
		return func(n int) bool {
			if runErr != nil {
				return false
			}
			r, err := h.runLevel(kind, n, purposeCapacity, 0, o.window)
			if err != nil {
				runErr = err
				return false
			}
			if kind == kindGateOff && slices.Contains(o.configs, kindRelay) {
				if _, err := h.runLevel(kindRelay, n, purposeCapacity, 0, o.window); err != nil {
					runErr = err
					return false
				}
			}
			return r.Pass
		}
	}
	switch {
	case slices.Contains(o.configs, kindGateOff):
		search(o.levels, o.refine, o.step, level(kindGateOff))
	case slices.Contains(o.configs, kindRelay):
		search(o.levels, o.refine, o.step, level(kindRelay))
	}
	if runErr != nil {
		return runErr
	}
	gateOn := slices.Contains(o.configs, kindGateOn)
	if gateOn {
		if _, err := os.Stat(h.vadModel); err != nil {
			msg := fmt.Sprintf("gate-on skipped: no VAD model at %s (run scripts/fetch-silero.sh)", h.vadModel)
			fmt.Println(msg)
			h.res.Notes = append(h.res.Notes, msg)
			gateOn = false
		} else {
			search(o.gateLevels, o.refine, o.step, level(kindGateOn))
			if runErr != nil {
				return runErr
			}
		}
	}
	if o.memSessions > 0 && slices.Contains(o.configs, kindGateOff) {
		// Finals never cover the audio: every replay ring fills to its
		// 30 s bound, the worst case of a streaming session's memory.
		if _, err := h.runLevel(kindGateOff, o.memSessions, purposeFullRing, 3_600_000, o.memWindow); err != nil {
			return err
		}
	}
	if o.idleSessions > 0 {
		for _, kind := range []string{kindGateOff, kindGateOn} {
			if kind == kindGateOn && !gateOn || kind == kindGateOff && !slices.Contains(o.configs, kindGateOff) {
				continue
			}
			if _, err := h.runIdle(kind, o.idleSessions); err != nil {
				return err
			}
		}
	}
	return nil
}

func (h *harness) startUpstream(kind string, ackLagMs int) (*child, error) {
	preroll := 0
	if kind == kindGateOn {
		preroll = (gate.DefaultPrerollMs + frameMs - 1) / frameMs
	}
	bin, args := h.pin.loadCommand(h.self, []string{"upstream", "-addr", "127.0.0.1:0", "-key", upstreamKey,
		"-preroll-frames", strconv.Itoa(preroll), "-ack-lag-ms", strconv.Itoa(ackLagMs)})
	return startChild("upstream", bin, args, nil)
}

func (h *harness) startTarget(kind, upAddr string) (*child, error) {
	upURL := "ws://" + upAddr + "/v1/listen"
	if kind == kindRelay {
		bin, args := h.pin.targetCommand(h.self, []string{"relay", "-addr", "127.0.0.1:0", "-upstream", upURL, "-key", upstreamKey})
		return startChild("relay", bin, args, h.pin.targetEnv())
	}
	args := []string{"serve", "--addr", "127.0.0.1:0", "--stt", "deepgram", "--deepgram-url", upURL}
	if kind == kindGateOn {
		args = append(args, "--vad-gate", "active", "--vad-model", h.vadModel)
	} else {
		args = append(args, "--vad-gate", "off")
	}
	// -gateway-env comes last: it wins over the pinning's GOMAXPROCS.
	env := append([]string{"EARSHOT_API_KEYS=" + clientKey, "DEEPGRAM_API_KEY=" + upstreamKey}, h.pin.targetEnv()...)
	env = append(env, h.o.gatewayEnv...)
	bin, targs := h.pin.targetCommand(h.earshot, args)
	return startChild("earshot serve", bin, targs, env)
}

// startLevel starts a fresh upstream and target for one run of n sessions,
// lets the target settle for a second, and returns them with the Run
// holding the load average and the target's resident memory before the
// sessions. The caller stops both children; on an error none is left
// running.
func (h *harness) startLevel(kind string, ackLagMs, n int, purpose string) (up, tgt *child, r *Run, err error) {
	if up, err = h.startUpstream(kind, ackLagMs); err != nil {
		return nil, nil, nil, err
	}
	if tgt, err = h.startTarget(kind, up.addr); err != nil {
		up.stop()
		return nil, nil, nil, err
	}
	time.Sleep(time.Second)
	r = &Run{Config: kind, Sessions: n, Purpose: purpose, Load1Before: load1(), Pinned: h.pin != nil, TargetCPUs: runtime.NumCPU()}
	if h.pin != nil {
		r.TargetCPUs = len(h.pin.Target)
	}
	if r.TargetAffinity, err = h.checkAffinity(up, tgt); err == nil {
		r.RSSBeforeKB, err = rssKB(tgt.pid)
	}
	if err != nil {
		tgt.stop()
		up.stop()
		return nil, nil, nil, err
	}
	return up, tgt, r, nil
}

// checkAffinity returns the CPUs the target's threads may run on, and
// when pinned checks that they, the upstream's and the harness's threads
// are where the pinning put them. The first time it prints them.
func (h *harness) checkAffinity(up, tgt *child) (string, error) {
	type proc struct {
		name, pid, want string
		got             string
		threads         int
	}
	procs := []*proc{{name: tgt.name, pid: tgt.pid}, {name: "upstream", pid: up.pid}, {name: "harness", pid: strconv.Itoa(os.Getpid())}}
	if h.pin != nil {
		procs[0].want, procs[1].want, procs[2].want = cpuList(h.pin.Target), cpuList(h.pin.Load), cpuList(h.pin.Load)
	}
	for _, p := range procs {
		var err error
		if p.got, p.threads, err = taskAffinity(p.pid); err != nil {
			return "", fmt.Errorf("%s's CPU affinity: %w", p.name, err)
		}
		if p.want != "" && p.got != p.want {
			return "", fmt.Errorf("-pin: %s (pid %s) may run on CPUs %s, not %s", p.name, p.pid, p.got, p.want)
		}
	}
	if !h.pinShown {
		h.pinShown = true
		var parts []string
		for _, p := range procs {
			parts = append(parts, fmt.Sprintf("%s (pid %s, %d threads) %s", p.name, p.pid, p.threads, p.got))
		}
		fmt.Println("Cpus_allowed_list:", strings.Join(parts, ", "))
	}
	return procs[0].got, nil
}

// snap is the CPU seconds used so far by the target, the upstream, the
// harness and the whole machine.
type snap struct {
	at                     time.Time
	target, up, self, busy float64
}

func takeSnap(tgt, up *child) (snap, error) {
	s := snap{at: time.Now()}
	var errs [4]error
	s.target, errs[0] = cpuSeconds(tgt.pid)
	s.up, errs[1] = cpuSeconds(up.pid)
	s.self, errs[2] = cpuSeconds("self")
	s.busy, _, errs[3] = machineCPU()
	return s, errors.Join(errs[:]...)
}

// runLevel runs one level: n sessions streaming against kind, measured
// over window after a ramp and a warm-up.
func (h *harness) runLevel(kind string, n int, purpose string, ackLagMs int, window time.Duration) (*Run, error) {
	o := h.o
	up, tgt, r, err := h.startLevel(kind, ackLagMs, n, purpose)
	if err != nil {
		return nil, err
	}
	defer up.stop()
	defer tgt.stop()
	gateway := kind != kindRelay
	var idleMetrics map[string]float64
	if gateway {
		if idleMetrics, err = scrapeGoMetrics(tgt.addr); err != nil {
			return nil, err
		}
	}

	ramp := min(max(time.Duration(n)*5*time.Millisecond, time.Second), o.maxRamp)
	start := time.Now().Add(200 * time.Millisecond)
	from := start.Add(ramp + o.warm)
	to := from.Add(window)
	spec := loadSpec{
		URL: "ws://" + tgt.addr + "/v4/listen?language=en&sample_rate=16000&codec=pcm16&channels=1", Key: clientKey,
		Sessions: n, Start: start, Ramp: ramp, Audio: h.conv.PCM, Stop: to.Add(o.tail),
		From: from.UnixNano(), To: to.UnixNano(),
	}
	type measured struct {
		a, b         snap
		ma, mb       map[string]float64 // the gateway's Go metrics
		rssEnd, peak int64
		err          error
	}
	mc := make(chan measured, 1)
	go func() {
		var m measured
		defer func() { mc <- m }()
		time.Sleep(time.Until(from))
		if m.a, m.err = takeSnap(tgt, up); m.err != nil {
			return
		}
		if gateway {
			if m.ma, m.err = scrapeGoMetrics(tgt.addr); m.err != nil {
				return
			}
		}
		for t := from; t.Before(to); {
			if t = t.Add(time.Second); t.After(to) {
				t = to
			}
			time.Sleep(time.Until(t))
			if t.Equal(to) {
				if m.b, m.err = takeSnap(tgt, up); m.err != nil {
					return
				}
				if gateway {
					if m.mb, m.err = scrapeGoMetrics(tgt.addr); m.err != nil {
						return
					}
				}
			}
			rss, err := rssKB(tgt.pid)
			if err != nil {
				m.err = err
				return
			}
			m.peak = max(m.peak, rss)
			m.rssEnd = rss
		}
	}()
	lr := runLoad(spec)
	m := <-mc
	if m.err != nil {
		return nil, fmt.Errorf("%s, %d sessions: measuring: %w", kind, n, m.err)
	}
	rep, err := fetchReport(up.addr, spec.From, spec.To)
	if err != nil {
		return nil, err
	}
	r.fill(kind, n, lr, rep, m.a, m.b, m.rssEnd, m.peak, to.Sub(from), o)
	if gateway {
		r.Gateway = newGatewayStats(idleMetrics, m.ma, m.mb, r.TargetCPUSec, lr.Sent, n, r.AudioSec)
	}
	r.LogWarnings, r.LogSamples = tgt.logWarnings()
	h.res.Runs = append(h.res.Runs, r)
	fmt.Println(r.line())
	return r, h.save()
}

// runIdle opens n sessions that send nothing, waits until all are ready
// (the gateway has dialed their upstream streams), and measures the
// target's memory.
func (h *harness) runIdle(kind string, n int) (*Run, error) {
	up, tgt, r, err := h.startLevel(kind, 0, n, purposeIdle)
	if err != nil {
		return nil, err
	}
	defer up.stop()
	defer tgt.stop()
	idleMetrics, err := scrapeGoMetrics(tgt.addr)
	if err != nil {
		return nil, err
	}
	var ready atomic.Int64
	done := make(chan struct{})
	ramp := min(max(time.Duration(n)*5*time.Millisecond, time.Second), h.o.maxRamp)
	spec := loadSpec{
		URL: "ws://" + tgt.addr + "/v4/listen?language=en&sample_rate=16000&codec=pcm16&channels=1", Key: clientKey,
		Sessions: n, Start: time.Now(), Ramp: ramp, Audio: h.conv.PCM,
		Stop: time.Now().Add(ramp + 30*time.Second + h.o.idleHold + time.Minute),
		Idle: true, Done: done, Ready: &ready,
	}
	lrc := make(chan loadResult, 1)
	go func() { lrc <- runLoad(spec) }()
	deadline := time.Now().Add(ramp + 30*time.Second)
	for ready.Load() < int64(n) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	readyAt := time.Now()
	time.Sleep(3 * time.Second)
	r.RSSSettleKB, err = rssKB(tgt.pid)
	if err == nil && h.o.idleHold > 3*time.Second {
		time.Sleep(time.Until(readyAt.Add(h.o.idleHold)))
		r.RSSEndKB, err = rssKB(tgt.pid)
	} else {
		r.RSSEndKB = r.RSSSettleKB
	}
	r.RSSPeakKB = max(r.RSSEndKB, r.RSSSettleKB)
	r.IdleHoldS = h.o.idleHold.Seconds()
	if err == nil {
		var m map[string]float64
		if m, err = scrapeGoMetrics(tgt.addr); err == nil {
			r.Gateway = newGatewayStats(idleMetrics, m, m, 0, 0, n, 0)
		}
	}
	close(done)
	lr := <-lrc
	if err != nil {
		return nil, err
	}
	r.SessionsFailed, r.Failures = lr.Failed, lr.Failures
	r.RSSPerSessionKB = float64(r.RSSEndKB-r.RSSBeforeKB) / float64(n)
	r.RSSSettlePerSessionKB = float64(r.RSSSettleKB-r.RSSBeforeKB) / float64(n)
	r.Pass = int(ready.Load()) == n && lr.Failed == 0
	if !r.Pass {
		r.Why = append(r.Why, fmt.Sprintf("%d of %d sessions ready, %d failed", ready.Load(), n, lr.Failed))
	}
	rep, err := fetchReport(up.addr, 0, 1)
	if err == nil {
		r.UpstreamStreams = rep.Streams
	}
	r.LogWarnings, r.LogSamples = tgt.logWarnings()
	h.res.Runs = append(h.res.Runs, r)
	fmt.Println(r.line())
	return r, h.save()
}

func fetchReport(upAddr string, from, to int64) (upstreamReport, error) {
	var rep upstreamReport
	c := &http.Client{Timeout: 60 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://%s/report?from=%d&to=%d&wait_ms=15000", upAddr, from, to))
	if err != nil {
		return rep, fmt.Errorf("upstream report: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return rep, fmt.Errorf("upstream report: %w", err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return rep, fmt.Errorf("upstream report %q: %w", clip(b), err)
	}
	return rep, nil
}

func (h *harness) save() error {
	b, err := json.MarshalIndent(h.res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(h.jsonPath, b, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(h.o.out, "capacity.json"), b, 0o644)
}

// plot draws the PNG with the nested module bench/capacity/plot (it keeps
// gonum.org/v1/plot out of earshot's go.mod) and copies it for the README.
func (h *harness) plot() {
	png := filepath.Join(h.o.out, "capacity.png")
	cmd := exec.Command("go", "run", ".", "-in", h.jsonPath, "-out", png)
	cmd.Dir = filepath.Join(h.root, "bench/capacity/plot")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "capacity: plot failed (%v); draw it later with: (cd bench/capacity/plot && go run . -in %s -out %s)\n",
			err, h.jsonPath, png)
		return
	}
	fmt.Println("plot:", png)
	if h.o.png == "" {
		return
	}
	b, err := os.ReadFile(png)
	if err == nil {
		err = os.WriteFile(h.o.png, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "capacity: copying the plot:", err)
		return
	}
	fmt.Println("plot copied to", h.o.png)
}

// findRoot walks up from the working directory to earshot's go.mod.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module earshot\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the earshot repository")
		}
		dir = parent
	}
}

// load1 is the 1-minute load average, or -1.
func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// waitQuiet waits until the 1-minute load average is below limit, at most
// maxWait, and returns the load average then.
func waitQuiet(limit float64, maxWait time.Duration) float64 {
	deadline := time.Now().Add(maxWait)
	for {
		l := load1()
		if l < limit || !time.Now().Before(deadline) {
			return l
		}
		fmt.Printf("capacity: load average %.2f ≥ %.2f, waiting for a quiet machine (until %s)\n",
			l, limit, deadline.Format("15:04:05"))
		time.Sleep(15 * time.Second)
	}
}
