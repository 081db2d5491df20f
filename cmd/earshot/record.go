package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"earshot/protocol/pusher"
	"earshot/record"
)

// recordShutdownTimeout bounds the HTTP server's shutdown after the
// recorder has closed its connections.
const recordShutdownTimeout = 5 * time.Second

// runRecord runs `earshot record [flags]`: a receiver of the pusher
// protocol (what the gateway's pusher sink, or Omi's listen server,
// feeds) that stores every conversation under --dir, serving until ctx
// is done and then shutting down cleanly (connections end with close
// 1001; a conversation being finished is finished first). Usage and logs
// go to stderr. It returns flag.ErrHelp for -h, and an error for bad
// flags, a missing --dir, a Dir it cannot create or repair, a listen
// failure or a server failure.
func runRecord(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := envString(fs, "addr", "RECORD_ADDR", "127.0.0.1:8792", "listen address (host:port)")
	dir := envString(fs, "dir", "RECORD_DIR", "",
		"where conversations are stored: <dir>/<conversation id>/ once finished, <dir>/.staging/ before (required)")
	maxFrame := envInt(fs, "max-frame-bytes", "RECORD_MAX_FRAME_BYTES", record.DefaultMaxFrameBytes,
		"largest frame; a larger one closes the connection with 1009")
	maxGap := envInt(fs, "max-gap-sec", "RECORD_MAX_GAP_SEC", record.DefaultMaxGapSec,
		"longest silence one audio frame may open in a conversation (audio the sender lost); a frame beyond it is dropped and counted")
	logLevel := envString(fs, "log-level", "RECORD_LOG_LEVEL", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := checkEnv(); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("no --dir (or RECORD_DIR): where to store the conversations")
	}
	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	rec, err := record.New(record.Config{Dir: *dir, MaxFrameBytes: *maxFrame, MaxGapSec: *maxGap},
		record.Deps{Logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		_ = rec.Close()
		return err
	}
	logger.Info("record: listening", "addr", ln.Addr().String(), "url", "ws://"+ln.Addr().String()+pusher.Path,
		"dir", *dir, "max_frame_bytes", *maxFrame, "max_gap_sec", *maxGap)
	// End the connections first (close 1001, new upgrades get 503; a
	// conversation being finished is finished first).
	err = serveWebSockets(ctx, ln, rec, logger, rec.Close, recordShutdownTimeout)
	logger.Info("record: stopped")
	return err
}
