package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	args := os.Args[1:]
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "run":
		err = mainRun(args)
	case "upstream":
		err = mainUpstream(args)
	case "relay":
		err = mainRelay(args)
	case "compare":
		err = mainCompare(args, os.Stdout)
	default:
		err = fmt.Errorf("unknown command %q (run, compare, upstream, relay)", cmd)
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "capacity:", err)
		os.Exit(1)
	}
}

// mainUpstream runs the stamp upstream (a child process of a run).
func mainUpstream(args []string) error {
	fs := flag.NewFlagSet("upstream", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	var cfg upstreamConfig
	fs.StringVar(&cfg.Key, "key", "", "required Token key (none: no auth)")
	fs.IntVar(&cfg.PrerollFrames, "preroll-frames", 0, "frames after a sequence gap counted as the gate's pre-roll")
	fs.IntVar(&cfg.ResultEvery, "result-every", 10, "audio frames per final Results")
	fs.IntVar(&cfg.AckLagMs, "ack-lag-ms", 0, "finals cover the audio up to this far behind what was received")
	fs.IntVar(&cfg.PrerollMs, "preroll-ms", 0, "unstamped frames: the gate's pre-roll after a Finalize and a gap longer than it, ms")
	fs.IntVar(&cfg.FrameSamples, "frame-samples", 0, "each binary message counts this many samples (0: its bytes ÷ 2)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return serveUntilSignal(*addr, newUpstream(cfg))
}

// mainRelay runs the bare relay (a child process of a run).
func mainRelay(args []string) error {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	rl := &relay{}
	fs.StringVar(&rl.upstreamURL, "upstream", "", "upstream ws:// URL")
	fs.StringVar(&rl.key, "key", "", "upstream Token key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if rl.upstreamURL == "" {
		return errors.New("relay: -upstream is required")
	}
	return serveUntilSignal(*addr, rl)
}

// serveUntilSignal serves h on addr, logging "listening addr=..." on
// stderr, until SIGTERM or SIGINT.
func serveUntilSignal(addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "listening addr=%s\n", ln.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
