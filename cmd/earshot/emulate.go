package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"time"

	"earshot/emulate"
)

// emulateShutdownTimeout bounds the HTTP server's shutdown after the
// emulator has ended its streams.
const emulateShutdownTimeout = 5 * time.Second

// runEmulate runs `earshot emulate [flags]`: a Deepgram live-transcription
// emulator with fault injection, serving until ctx is done and then shutting
// down cleanly (streams end with close 1001). Usage and logs go to stderr.
// It returns flag.ErrHelp for -h, and an error for bad flags, a listen
// failure, a recognizer that cannot start (e.g. pocketsphinx without its
// model) or a server failure. The recognizer starts once, before the
// listener, and is stopped after the emulator's streams have ended. The API
// key (flag or EMULATE_API_KEY) is never printed or logged.
func runEmulate(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("emulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	recognizers := emulateRecognizers()
	names := slices.Sorted(maps.Keys(recognizers))
	var cfg emulate.Config
	addr := envString(fs, "addr", "EMULATE_ADDR", "127.0.0.1:8791", "listen address (host:port)")
	// Not envString: its default would print the key in -h.
	key := fs.String("api-key", "", "require this API key (\"Authorization: Token <key>\"); empty: no auth (env EMULATE_API_KEY)")
	recog := envString(fs, "recognizer", "EMULATE_RECOGNIZER", "energy-test", recognizerUsage(names))
	recogOptions := addRecognizerFlags(fs)
	logLevel := envString(fs, "log-level", "EMULATE_LOG_LEVEL", "info", "log level: debug, info, warn, error")
	idle := envInt(fs, "idle-timeout-ms", "EMULATE_IDLE_TIMEOUT_MS", emulate.DefaultIdleTimeoutMs,
		"close a stream with 1011 NET-0001 after this many ms without a frame")
	refuseFirst := envInt(fs, "refuse-first", "EMULATE_REFUSE_FIRST", 0, "fault: refuse the first n upgrade attempts")
	refuseStatus := envInt(fs, "refuse-status", "EMULATE_REFUSE_STATUS", emulate.DefaultRefuseStatus,
		"fault: HTTP status of those refusals (400..599)")
	retryAfter := envInt(fs, "retry-after-sec", "EMULATE_RETRY_AFTER_SEC", 0, "fault: Retry-After seconds on those refusals (0: none)")
	dropAfter := envInt(fs, "drop-after-ms", "EMULATE_DROP_AFTER_MS", 0, "fault: drop each stream this many ms after it opened (0: never)")
	dropAbrupt := envBool(fs, "drop-abrupt", "EMULATE_DROP_ABRUPT",
		"fault: drop by closing TCP (client sees 1006) instead of Metadata + close 1011")
	stall := envBool(fs, "stall", "EMULATE_STALL",
		"fault: read audio but never answer (no results, no Metadata; only the idle timeout ends a stream)")
	handshakeDelay := envInt(fs, "handshake-delay-ms", "EMULATE_HANDSHAKE_DELAY_MS", 0, "fault: delay every upgrade attempt by this many ms")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := checkEnv(); err != nil {
		return err
	}
	startRecognizer, ok := recognizers[*recog]
	if !ok {
		return unknownRecognizer(*recog, names)
	}
	cfg.APIKey = *key
	if cfg.APIKey == "" {
		cfg.APIKey = os.Getenv("EMULATE_API_KEY")
	}
	cfg.IdleTimeoutMs = *idle
	cfg.Faults = emulate.Faults{
		RefuseFirst:      *refuseFirst,
		RefuseStatus:     *refuseStatus,
		RetryAfterSec:    *retryAfter,
		DropAfterMs:      *dropAfter,
		DropAbrupt:       *dropAbrupt,
		Stall:            *stall,
		HandshakeDelayMs: *handshakeDelay,
	}

	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	newRec, stopRecognizer, err := startRecognizer(recogOptions(), logger)
	if err != nil {
		return err
	}
	// Runs on return, after srv.Close below has ended the streams (and
	// closed their recognizers).
	defer func() {
		if err := stopRecognizer(); err != nil {
			logger.Warn("emulate: stopping the recognizer", "recognizer", *recog, "err", err)
		}
	}()
	cfg.Recognizer = newRec
	srv, err := emulate.NewServer(cfg, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	logger.Info("emulate: listening", "addr", ln.Addr().String(), "url", "ws://"+ln.Addr().String()+"/v1/listen",
		"recognizer", *recog, "auth", cfg.APIKey != "", "idle_timeout_ms", cfg.IdleTimeoutMs,
		"refuse_first", cfg.Faults.RefuseFirst, "refuse_status", cfg.Faults.RefuseStatus,
		"retry_after_sec", cfg.Faults.RetryAfterSec, "drop_after_ms", cfg.Faults.DropAfterMs,
		"drop_abrupt", cfg.Faults.DropAbrupt, "stall", cfg.Faults.Stall,
		"handshake_delay_ms", cfg.Faults.HandshakeDelayMs)
	// End the streams first (close 1001, pending handshakes get 503).
	err = serveWebSockets(ctx, ln, srv.Handler(), logger, srv.Close, emulateShutdownTimeout)
	st := srv.Stats()
	logger.Info("emulate: stopped", "upgrade_attempts", st.UpgradeAttempts, "accepted", st.Accepted, "refused", st.Refused)
	return err
}
