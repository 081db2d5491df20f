package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"earshot/stages/ingest"
)

type options struct {
	out, png       string
	earshot        string
	configs        []string
	levels         []int
	gateLevels     []int
	refine, step   int
	window, warm   time.Duration
	maxRamp        time.Duration
	tail           time.Duration
	maxLate        time.Duration
	target         time.Duration
	memSessions    int
	memWindow      time.Duration
	idleSessions   int
	idleHold       time.Duration
	quietLoad      float64
	quietWait      time.Duration
	pauseFrames    int
	codec          string
	frameMs        int
	framings       []framingSpec // -framings, or the one of -codec and -frame-ms
	label          string
	channels       int  // per session: channels=N, one upstream socket each
	pngSet         bool // -png was given: copy the plot whatever the framing
	maxOutside     float64
	outsideRetries int
	plot           bool
	pin            bool
	gatewayEnv     []string
}

func parseOptions(args []string) (*options, error) {
	fs := flag.NewFlagSet("capacity", flag.ContinueOnError)
	o := &options{}
	var configs, levels, gateLevels, gatewayEnv, framings, framingLevels, framingGateLevels string
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
	fs.StringVar(&o.codec, "codec", "pcm16", "what the sessions send (the listen URL's codec=): pcm16 or pcm8 in -frame-ms frames, "+
		"or a device codec (opus, opus_fs320, mulaw8, mulaw16, lc3, lc3_fs1030, aac), one packet per frame at the packet's "+
		"duration, encoded once with client.Encode (libopus and liblc3 need -tags libcodecs) or read from fixtures/codecs")
	fs.IntVar(&o.frameMs, "frame-ms", defaultFrameMs, "pcm16 and pcm8 only: the frame, ms (10 to 1000); a device codec's frame is its packet")
	fs.StringVar(&framings, "framings", "", "several framings in one run, comma-separated, each a -codec with, for pcm16 and pcm8, "+
		"an optional :<frame ms> (100 when left out), e.g. pcm16:100,opus_fs320,opus: every configuration of -configs runs at "+
		"every framing, in this order (the memory runs once, at the first); replaces -codec and -frame-ms")
	fs.StringVar(&framingLevels, "framing-levels", "", "per framing, instead of -levels: <framing>=<levels> separated by "+
		"semicolons, e.g. 'opus_fs320=50,100,150;opus=25,50,75' (a framing as in -framings)")
	fs.StringVar(&framingGateLevels, "framing-gate-levels", "", "per framing, instead of -gate-levels: as -framing-levels")
	fs.StringVar(&o.label, "label", "", "a name for this run (e.g. the build measured), in the JSON, the tables and the plot's legend; "+
		"compare uses it for the columns")
	fs.IntVar(&o.channels, "channels", 1, fmt.Sprintf("channels per session (1 to %d): the listen URL's channels=; with 2 or more "+
		"each frame time sends one [channel id][payload] frame per channel (ids 1..N, the same audio, channel c shifted "+
		"c·⌊loop/N⌋ frames later in the loop), and the target opens one upstream socket per channel (the relay too)", maxChannels))
	fs.StringVar(&gatewayEnv, "gateway-env", "", "extra environment of earshot serve, comma-separated KEY=VALUE (e.g. GOGC=400); "+
		"a GOMAXPROCS here wins over -pin's GOMAXPROCS=1")
	fs.BoolVar(&o.pin, "pin", true, "pin the target (earshot serve or the relay) to the first CPU with GOMAXPROCS=1, and the upstream "+
		"and this load generator to the other CPUs, so that sessions per core are the target's one core "+
		"(Linux, 2 or more CPUs, taskset from util-linux); false: all share every core")
	fs.Float64Var(&o.maxOutside, "max-outside", 0.1, "with -outside-retries: a level during which the rest of the machine "+
		"used this many cores or more is not counted")
	fs.IntVar(&o.outsideRetries, "outside-retries", 0, "run a level spoiled by outside load (-max-outside) again this many "+
		"times, each once the machine is quiet (at most -quiet-wait); 0: count every run, as the first runs did")
	fs.BoolVar(&o.plot, "plot", true, "draw the PNG (go run in bench/capacity/plot, a nested module)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var frameMsSet, codecSet bool
	fs.Visit(func(f *flag.Flag) {
		frameMsSet = frameMsSet || f.Name == "frame-ms"
		codecSet = codecSet || f.Name == "codec"
		o.pngSet = o.pngSet || f.Name == "png"
	})
	if framings != "" && (frameMsSet || codecSet) {
		return nil, errors.New("-framings replaces -codec and -frame-ms: give one or the other")
	}
	if frameMsSet && o.codec != "pcm16" && o.codec != "pcm8" {
		return nil, fmt.Errorf("-frame-ms: for pcm16 and pcm8 only; %s sends one packet per frame at the packet's duration", o.codec)
	}
	if o.channels < 1 || o.channels > maxChannels {
		return nil, fmt.Errorf("-channels: %d is not between 1 and %d", o.channels, maxChannels)
	}
	var err error
	if o.levels, err = parseInts(levels); err != nil {
		return nil, fmt.Errorf("-levels: %w", err)
	}
	if o.gateLevels, err = parseInts(gateLevels); err != nil {
		return nil, fmt.Errorf("-gate-levels: %w", err)
	}
	if framings == "" { // -codec and -frame-ms, checked by newFraming as ever
		fs := framingSpec{Name: framingName(o.codec, o.frameMs), Codec: o.codec, Levels: o.levels, GateLevels: o.gateLevels}
		if ingest.Codec(o.codec).Raw() {
			fs.FrameMs = o.frameMs
		}
		o.framings = []framingSpec{fs}
	} else if o.framings, err = parseFramings(framings, o.levels, o.gateLevels); err != nil {
		return nil, fmt.Errorf("-framings: %w", err)
	}
	if err := parseFramingLevels(framingLevels, o.framings, func(fs *framingSpec, l []int) { fs.Levels = l }); err != nil {
		return nil, fmt.Errorf("-framing-levels: %w", err)
	}
	if err := parseFramingLevels(framingGateLevels, o.framings, func(fs *framingSpec, l []int) { fs.GateLevels = l }); err != nil {
		return nil, fmt.Errorf("-framing-gate-levels: %w", err)
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
