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
// emulator, or with --protocol soniox a Soniox real-time one, with fault
// injection, serving until ctx is done and then shutting down cleanly
// (streams end with close 1001). Usage and logs go to stderr.
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
	protocol := envString(fs, "protocol", "EMULATE_PROTOCOL", emulate.ProtocolDeepgram,
		"protocol to speak: deepgram (GET /v1/listen) or soniox (GET "+emulate.SonioxPath+")")
	// Not envString: its default would print the key in -h.
	key := fs.String("api-key", "", "require this API key (\"Authorization: Token <key>\", soniox: \"Bearer <key>\"); empty: no auth (env EMULATE_API_KEY)")
	recog := envString(fs, "recognizer", "EMULATE_RECOGNIZER", "energy-test", recognizerUsage(names))
	recogOptions := addRecognizerFlags(fs)
	logLevel := envString(fs, "log-level", "EMULATE_LOG_LEVEL", "info", "log level: debug, info, warn, error")
	idle := envInt(fs, "idle-timeout-ms", "EMULATE_IDLE_TIMEOUT_MS", 0,
		fmt.Sprintf("close a stream after this many ms without a frame (deepgram: 1011 NET-0001, soniox: error 408); "+
			"0: the protocol's default (deepgram %d, soniox %d)", emulate.DefaultIdleTimeoutMs, emulate.DefaultSonioxIdleTimeoutMs))
	refuseFirst := envInt(fs, "refuse-first", "EMULATE_REFUSE_FIRST", 0, "fault: refuse the first n upgrade attempts")
	refuseStatus := envInt(fs, "refuse-status", "EMULATE_REFUSE_STATUS", emulate.DefaultRefuseStatus,
		"fault: HTTP status of those refusals (400..599)")
	retryAfter := envInt(fs, "retry-after-sec", "EMULATE_RETRY_AFTER_SEC", 0, "fault: Retry-After seconds on those refusals (0: none)")
	dropAfter := envInt(fs, "drop-after-ms", "EMULATE_DROP_AFTER_MS", 0, "fault: drop each stream this many ms after it opened (0: never)")
	dropAbrupt := envBool(fs, "drop-abrupt", "EMULATE_DROP_ABRUPT",
		"fault: drop by closing TCP (client sees 1006) instead of Metadata + close 1011 (soniox: error 503 + close)")
	stall := envBool(fs, "stall", "EMULATE_STALL",
		"fault: read audio but never answer (no results, no Metadata or errors; only the idle timeout ends a stream)")
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
	if *protocol != emulate.ProtocolDeepgram && *protocol != emulate.ProtocolSoniox {
		return fmt.Errorf("unknown --protocol %q (available: %s, %s)", *protocol, emulate.ProtocolDeepgram, emulate.ProtocolSoniox)
	}
	startRecognizer, ok := recognizers[*recog]
	if !ok {
		return unknownRecognizer(*recog, names)
	}
	cfg.APIKey = *key
	if cfg.APIKey == "" {
		cfg.APIKey = os.Getenv("EMULATE_API_KEY")
	}
	cfg.Protocol = *protocol
	cfg.IdleTimeoutMs = *idle
	if cfg.IdleTimeoutMs == 0 { // the Server's default, logged below
		cfg.IdleTimeoutMs = emulate.DefaultIdleTimeoutMs
		if cfg.Protocol == emulate.ProtocolSoniox {
			cfg.IdleTimeoutMs = emulate.DefaultSonioxIdleTimeoutMs
		}
	}
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
	path := "/v1/listen"
	if cfg.Protocol == emulate.ProtocolSoniox {
		path = emulate.SonioxPath
	}
	logger.Info("emulate: listening", "addr", ln.Addr().String(), "url", "ws://"+ln.Addr().String()+path,
		"protocol", *protocol, "recognizer", *recog, "auth", cfg.APIKey != "", "idle_timeout_ms", cfg.IdleTimeoutMs,
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
