// Command earshot is a real-time transcription gateway.
//
// Usage:
//
//	earshot serve    [flags]            run the gateway
//	earshot emulate  [flags]            run an upstream that speaks Deepgram's live protocol
//	earshot stream   [flags] file.wav   stream a WAV file to /v4/listen and measure
//	earshot record   [flags]            run a receiver of the pusher protocol that stores conversations
//
// Run "earshot <command> -h" for a command's flags. Every flag can also be
// set from the environment (see the README).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a subcommand and returns the process exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, args[1:], stderr)
	case "emulate":
		err = runEmulate(ctx, args[1:], stderr)
	case "stream":
		err = runStream(ctx, args[1:], stdout, stderr)
	case "record":
		err = runRecord(ctx, args[1:], stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "earshot: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	default:
		fmt.Fprintf(stderr, "earshot %s: %v\n", args[0], err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: earshot <command> [flags]

commands:
  serve     run the gateway (GET /v4/listen, /metrics, /healthz, /readyz)
  emulate   run an upstream that speaks Deepgram's live protocol, with fault injection
  stream    stream a WAV file to /v4/listen like the Omi app's live test, and measure
  record    run a receiver of the pusher protocol (/v1/trigger/listen) that stores each conversation's audio and segments

Run "earshot <command> -h" for a command's flags.
`)
}
