package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
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
	fr       *framing
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
	if h.fr, err = newFraming(context.Background(), o.codec, o.frameMs, h.conv, root); err != nil {
		return err
	}
	if !h.fr.isDefault() && !o.pngSet {
		o.png = "" // bench/capacity.png is the README's plot of pcm16 in 100 ms frames
	}
	if h.earshot = o.earshot; h.earshot == "" {
		tmp, err := os.MkdirTemp("", "earshot-capacity")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		h.earshot = filepath.Join(tmp, "earshot")
		bargs := []string{"build", "-o", h.earshot}
		if tags := buildTags(); tags != "" {
			// The harness's own tags: earshot decodes what it encodes.
			bargs = append(bargs, "-tags", tags)
			fmt.Println("building earshot with -tags", tags)
		}
		build := exec.Command("go", append(bargs, "./cmd/earshot")...)
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
	h.res = newResults(o, h.conv, h.fr, load, h.pin)
	h.jsonPath = filepath.Join(o.out, "capacity-"+time.Now().Format("20060102-150405")+".json")
	fmt.Printf("capacity: %d cores, load average %.2f at start; results in %s\n", runtime.NumCPU(), load, h.jsonPath)
	fmt.Printf("conversation: %.1f s loop, %d pauses stretched to %.1f s, %.0f%% quiet frames\n",
		h.conv.Seconds, h.conv.Pauses, h.conv.PauseSeconds, 100*h.conv.QuietShare)
	fmt.Println("frames:", h.fr.sentence())

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
			r, err := h.measureLevel(kind, n)
			if err != nil {
				runErr = err
				return false
			}
			if kind == kindGateOff && slices.Contains(o.configs, kindRelay) {
				if _, err := h.measureLevel(kindRelay, n); err != nil {
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

// buildTags is the -tags this binary was built with ("" for none).
func buildTags() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, st := range bi.Settings {
		if st.Key == "-tags" {
			return st.Value
		}
	}
	return ""
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
