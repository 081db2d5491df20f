package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
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
	frs      []*framing   // of o.framings
	spec     *framingSpec // the framing running, and its frames
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
	for _, fs := range o.framings { // all encoded before anything runs: a framing this build cannot send stops here
		fr, err := newFraming(context.Background(), fs.Codec, fs.FrameMs, h.conv, root)
		if err != nil {
			return err
		}
		h.frs = append(h.frs, fr)
	}
	h.spec, h.fr = &o.framings[0], h.frs[0]
	if (len(h.frs) > 1 || !h.fr.isDefault()) && !o.pngSet {
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
	h.res = newResults(o, h.conv, h.frs, load, h.pin)
	h.jsonPath = filepath.Join(o.out, "capacity-"+time.Now().Format("20060102-150405")+".json")
	fmt.Printf("capacity: %d cores, load average %.2f at start; results in %s\n", runtime.NumCPU(), load, h.jsonPath)
	fmt.Printf("conversation: %.1f s loop, %d pauses stretched to %.1f s, %.0f%% quiet frames\n",
		h.conv.Seconds, h.conv.Pauses, h.conv.PauseSeconds, 100*h.conv.QuietShare)
	for i, fr := range h.frs {
		fmt.Printf("frames (%s): %s\n", o.framings[i].Name, fr.sentence())
	}
	if o.label != "" {
		fmt.Println("label:", o.label)
	}

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

// runAll runs every configured search at every framing, in order, then
// the memory runs at the first framing.
func (h *harness) runAll() error {
	o := h.o
	gateOn := slices.Contains(o.configs, kindGateOn)
	if gateOn {
		if _, err := os.Stat(h.vadModel); err != nil {
			msg := fmt.Sprintf("gate-on skipped: no VAD model at %s (run scripts/fetch-silero.sh)", h.vadModel)
			fmt.Println(msg)
			h.res.Notes = append(h.res.Notes, msg)
			gateOn = false
		}
	}
	for i := range o.framings {
		h.spec, h.fr = &o.framings[i], h.frs[i]
		if len(o.framings) > 1 {
			fmt.Printf("\nframing %s (%d of %d)\n", h.spec.Name, i+1, len(o.framings))
		}
		if err := h.searchFraming(gateOn); err != nil {
			return err
		}
	}
	h.spec, h.fr = &o.framings[0], h.frs[0]
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

// searchFraming runs the searches of the framing running: gate off (each
// level with the relay too) or the relay alone, then gate on.
func (h *harness) searchFraming(gateOn bool) error {
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
		search(h.spec.Levels, o.refine, o.step, level(kindGateOff))
	case slices.Contains(o.configs, kindRelay):
		search(h.spec.Levels, o.refine, o.step, level(kindRelay))
	}
	if runErr == nil && gateOn {
		search(h.spec.GateLevels, o.refine, o.step, level(kindGateOn))
	}
	return runErr
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
