package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"earshot/stages/gate"
)

func (h *harness) startUpstream(kind string, ackLagMs int) (*child, error) {
	preroll, prerollMs, frameSamples := 0, 0, 0
	if kind == kindGateOn {
		preroll, prerollMs = h.fr.everyFrames(gate.DefaultPrerollMs), gate.DefaultPrerollMs
	}
	if kind == kindRelay && !h.fr.Stamped {
		frameSamples = h.fr.samples() // the relay forwards the packets themselves
	}
	bin, args := h.pin.loadCommand(h.self, []string{"upstream", "-addr", "127.0.0.1:0", "-key", upstreamKey,
		"-preroll-frames", strconv.Itoa(preroll), "-preroll-ms", strconv.Itoa(prerollMs), "-ack-lag-ms", strconv.Itoa(ackLagMs),
		"-result-every", strconv.Itoa(h.fr.everyFrames(1000)), "-frame-samples", strconv.Itoa(frameSamples)})
	return startChild("upstream", bin, args, nil)
}

// frameOrigin is where kind's segment times count from (see arrival.go).
func frameOrigin(kind string) string {
	switch kind {
	case kindRelay:
		return originCapture
	case kindGateOn:
		return originCalibrated
	default:
		return originStreamStart
	}
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
	if h.o.channels > 1 {
		args = append(args, "--max-channels", strconv.Itoa(h.o.channels))
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
	r = &Run{Config: kind, Sessions: n, Purpose: purpose, Load1Before: load1(), Pinned: h.pin != nil, TargetCPUs: runtime.NumCPU(),
		Framing: h.spec.Name, Codec: h.fr.Codec, FrameMs: h.fr.FrameMs, Stamped: h.fr.Stamped, Channels: max(h.o.channels, 1)}
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
