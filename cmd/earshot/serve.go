package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"earshot/pipeline"
	"earshot/stages/connector"
	"earshot/stages/ingest"
	"earshot/stages/pusher"
	"earshot/stages/retry"
)

// runServe runs the gateway until ctx is done (SIGINT/SIGTERM), then
// drains it: sessions are closed with 1012 and their upstream streams
// ended properly, for at most --drain-timeout-ms.
func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := envString(fs, "addr", "EARSHOT_ADDR", "127.0.0.1:8790", "listen address")
	pf := defineProviderFlags(fs)
	gf := defineGateFlags(fs)
	af := defineAuthFlags(fs)
	opusDecoder := envString(fs, "opus-decoder", "EARSHOT_OPUS_DECODER", string(ingest.OpusAuto),
		"Opus decoder: auto (libopus where the build has it, else pion), pion (pure Go, every build) or "+
			"libopus (builds with -tags libcodecs: half the CPU, packet-loss concealment)")
	logLevel := envString(fs, "log-level", "EARSHOT_LOG_LEVEL", "info", "log level: debug, info, warn, error")
	drainMs := envInt(fs, "drain-timeout-ms", "EARSHOT_DRAIN_TIMEOUT_MS", 10_000,
		"on SIGTERM, how long sessions get to end before they are stopped hard")
	readLimit := envInt(fs, "read-limit-bytes", "EARSHOT_READ_LIMIT_BYTES", pipeline.DefaultReadLimitBytes,
		"largest client frame; a larger one closes the session with 1009")
	maxConns := envInt(fs, "max-conns", "EARSHOT_MAX_CONNS", 0,
		"connections open at once, sessions included; at the cap idle and silent connections make room, else new ones get 503 (0: half the descriptor limit less 64, at most 20000)")
	httpIdleMs := envInt(fs, "http-idle-timeout-ms", "EARSHOT_HTTP_IDLE_TIMEOUT_MS", pipeline.DefaultIdleTimeoutMs,
		"a keep-alive HTTP connection idle this long between requests is closed")
	httpReadMs := envInt(fs, "http-read-timeout-ms", "EARSHOT_HTTP_READ_TIMEOUT_MS", pipeline.DefaultReadTimeoutMs,
		"reading a whole HTTP request (headers and body) must end within this long; an upgraded session keeps its own rules")
	maxSessions := envInt(fs, "max-sessions", "EARSHOT_MAX_SESSIONS", 0,
		"sessions run at once; a new one beyond is closed with 1013 before any upstream work (0: --max-conns' default less 64; negative: no cap)")
	maxChannels := envInt(fs, "max-channels", "EARSHOT_MAX_CHANNELS", pipeline.DefaultMaxChannels,
		"most channels a session may ask for (channels=N); each costs its own decoder, gate, upstream socket and replay ring")
	profilesDir := envString(fs, "profiles-dir", "EARSHOT_PROFILES_DIR", "",
		"users' speech profiles, <user id>.wav: a session of a user with one is a speech-profile session (empty: none)")
	prefixMs := envInt(fs, "profile-prefix-ms", "EARSHOT_PROFILE_PREFIX_MS", pipeline.DefaultProfilePrefixMs,
		"a profile is cut or padded with silence to this length before it is sent")
	maxPerKey := envInt(fs, "max-sessions-per-key", "EARSHOT_MAX_SESSIONS_PER_KEY", 0,
		"sessions one client key runs at once, refused the same way (0: no cap beyond --max-sessions)")
	replayBudget := envInt(fs, "replay-budget-bytes", "EARSHOT_REPLAY_BUDGET_BYTES", 0,
		"memory of every session's replay ring together; each ring holds at most its fair share and evicts its own oldest audio beyond it (counted lost); a session whose share would fall below 64 KiB is refused with 1013 (0: a quarter of the machine's or container's memory; negative: no budget)")
	maxPace := envFloat(fs, "max-pace", "EARSHOT_MAX_PACE", pipeline.DefaultMaxPace,
		"most audio a session may send per wall second, as a multiple of real time (beyond --pace-burst-ms it is closed with 1008); negative: no limit")
	paceBurstMs := envInt(fs, "pace-burst-ms", "EARSHOT_PACE_BURST_MS", pipeline.DefaultPaceBurstMs,
		"audio a session may send at once beyond --max-pace (an app's backlog after a reconnect)")
	writeTimeout := envInt(fs, "write-timeout-ms", "EARSHOT_WRITE_TIMEOUT_MS", pipeline.DefaultWriteTimeoutMs,
		"a write the client does not take within this long closes its connection (a client that stopped reading; recorded as 1013)")
	backoffBase := envInt(fs, "backoff-base-ms", "EARSHOT_BACKOFF_BASE_MS", retry.DefaultBackoffBaseMs,
		"upstream retry: first delay's upper bound (full-jitter exponential)")
	backoffCap := envInt(fs, "backoff-cap-ms", "EARSHOT_BACKOFF_CAP_MS", retry.DefaultBackoffCapMs,
		"upstream retry: cap of every delay")
	attempts := envInt(fs, "connect-attempts", "EARSHOT_CONNECT_ATTEMPTS", retry.DefaultBackoffAttempts,
		"dials for a session's first connect before it is closed with 1011")
	reconnects := envInt(fs, "reconnect-attempts", "EARSHOT_RECONNECT_ATTEMPTS", 0,
		"dials per reconnect after a stream failed; 0 keeps trying while the client is there")
	replayMs := envInt(fs, "replay-max-ms", "EARSHOT_REPLAY_MAX_MS", connector.DefaultReplayMaxMs,
		"audio held for replay after an upstream failure; older audio is counted lost")
	debugAddr := envString(fs, "debug-addr", "EARSHOT_DEBUG_ADDR", "",
		"if set, serve Go's profiler (/debug/pprof/) on this address, apart from the gateway's; keep it on loopback")
	stallMs := envInt(fs, "stall-timeout-ms", "EARSHOT_STALL_TIMEOUT_MS", connector.DefaultStallTimeoutMs,
		"replace an upstream stream that answers nothing for this long (negative: never)")
	failoverMs := envInt(fs, "failover-after-ms", "EARSHOT_FAILOVER_AFTER_MS", connector.DefaultFailoverAfterMs,
		"with a chain of providers (--stt a,b,...): reconnects to one provider failing this long move the session to the next (negative: only permanent refusals, an open breaker and quick deaths do)")
	maxFailovers := envInt(fs, "max-failovers", "EARSHOT_MAX_FAILOVERS", connector.DefaultMaxFailovers,
		"with a chain: moves between providers one session may make (negative: none)")
	prices := envString(fs, "price-per-hour", "EARSHOT_PRICE_PER_HOUR", defaultPrices,
		"providers' prices in US dollars per hour, provider=USD[,...], for the estimated cost on /metrics (earshot_upstream_cost_usd_total); soniox is billed per hour of open stream, the others per hour of audio sent")
	idleClose := envString(fs, "idle-close-ms", "EARSHOT_IDLE_CLOSE_MS", defaultIdleCloseMs,
		"per provider, provider=ms[,...]: with the VAD gate holding the audio back this long, a stream is closed and reopened at the next speech, and a session dials only at its first speech (for providers that bill open streams); 0 turns one off")
	pusherURL := envString(fs, "pusher-url", "EARSHOT_PUSHER_URL", "",
		"downstream pusher (ws://host:port): each session streams its audio, segments and finished conversations there (Omi's pusher protocol; `earshot record` is one); empty: none")
	pusherAudio := envInt(fs, "pusher-audio-buffer-bytes", "EARSHOT_PUSHER_AUDIO_BUFFER_BYTES", pusher.DefaultAudioBufferBytes,
		"per session, audio waiting for the pusher; beyond it the oldest is dropped and counted")
	pusherLinger := envInt(fs, "pusher-linger-ms", "EARSHOT_PUSHER_LINGER_MS", pusher.DefaultLingerMs,
		"after a session ends, how long its unanswered conversation requests are still re-sent before they are given up")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkEnv(); err != nil {
		return err
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	keys := splitList(os.Getenv("EARSHOT_API_KEYS"))
	if len(keys) == 0 && *af.issuer == "" {
		return errors.New("no client keys: set EARSHOT_API_KEYS (comma-separated), or --auth-issuer for signed tokens")
	}

	set := metrics.NewSet()
	gateCfg, newDetector, stopVAD, err := gf.config(log, set)
	if err != nil {
		return err
	}
	// On every return, after the sessions are gone (the drain below waits
	// for them; sessions still running on an early return fail open).
	defer stopVAD()
	chain, err := pf.newProviders(log)
	defer func() {
		for _, p := range chain {
			_ = p.Close()
		}
	}()
	if err != nil {
		return err
	}
	provider := chain[0]
	var fallbacks []connector.Link
	for i, p := range chain {
		if p.register != nil {
			p.register(set)
		}
		if i > 0 {
			fallbacks = append(fallbacks, connector.Link{Provider: p.Provider, Languages: p.languages})
		}
	}
	tokens, err := af.verifier(log, set)
	if err != nil {
		return err
	}
	priceMap, err := parsePrices(*prices)
	if err != nil {
		return err
	}
	idleMap, err := parseIdleClose(*idleClose)
	if err != nil {
		return err
	}
	deps := pipeline.Deps{Provider: provider.Provider, Fallbacks: fallbacks, Metrics: set, Logger: log, NewDetector: newDetector}
	if tokens != nil {
		defer func() { _ = tokens.Close() }()
		deps.Tokens = tokens
		log.Info("signed tokens accepted", "issuer", *af.issuer, "audience", *af.audience, "keys", tokens.Keys())
	}
	srv, err := pipeline.New(pipeline.Config{
		APIKeys:           keys,
		AllowedOrigins:    splitList(*af.origins),
		ReadLimitBytes:    int64(*readLimit),
		WriteTimeoutMs:    *writeTimeout,
		MaxPace:           *maxPace,
		MaxSessions:       *maxSessions,
		MaxSessionsPerKey: *maxPerKey,
		MaxChannels:       *maxChannels,
		ProfilesDir:       *profilesDir,
		ProfilePrefixMs:   *prefixMs,
		ReplayBudgetBytes: int64(*replayBudget),
		PaceBurstMs:       *paceBurstMs,
		Languages:         chainLanguages(chain),
		Prices:            priceMap,
		IdleCloseMs:       idleMap,
		Gate:              gateCfg,
		Pusher:            pusher.Config{URL: *pusherURL, AudioBufferBytes: *pusherAudio, LingerMs: *pusherLinger},
		OpusDecoder:       ingest.OpusDecoder(*opusDecoder),
		Connector: connector.Config{
			Backoff:           retry.BackoffConfig{BaseMs: *backoffBase, CapMs: *backoffCap, Attempts: *attempts},
			ReconnectAttempts: *reconnects,
			ReplayMaxMs:       *replayMs,
			StallTimeoutMs:    *stallMs,
			FinalizeSilenceMs: *gf.finalizeMs,
			FailoverAfterMs:   *failoverMs,
			MaxFailovers:      *maxFailovers,
		},
	}, deps)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs, ln := pipeline.NewHTTPServer(srv, ln, pipeline.HTTPConfig{
		MaxConns: *maxConns, IdleTimeoutMs: *httpIdleMs, ReadTimeoutMs: *httpReadMs,
	}, set)
	conns := *maxConns
	if conns <= 0 {
		conns = pipeline.DefaultMaxConns()
	}
	log.Info("earshot serving", append([]any{"addr", ln.Addr().String(), "stt", provider.Name()}, provider.logAttrs...)...)
	for _, p := range chain[1:] {
		log.Info("fallback provider", append([]any{"stt", p.Name()}, p.logAttrs...)...)
	}
	log.Info("http limits", "max_conns", conns, "idle_timeout_ms", *httpIdleMs, "read_timeout_ms", *httpReadMs, "write_timeout_ms", *writeTimeout)
	log.Info("vad gate", "mode", gateCfg.Mode, "threshold", gateCfg.Threshold, "preroll_ms", gateCfg.PrerollMs,
		"hangover_ms", gateCfg.HangoverMs, "finalize_silence_ms", *gf.finalizeMs)
	if newDetector != nil {
		log.Info("vad detector", "batch", *gf.batch, "batch_wait_ms", *gf.batchWait)
	}

	if *debugAddr != "" {
		stopDebug, err := serveDebug(*debugAddr, log)
		if err != nil {
			return err
		}
		defer stopDebug()
	}

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("draining", "timeout_ms", *drainMs)
	dctx, cancel := context.WithTimeout(context.Background(), time.Duration(*drainMs)*time.Millisecond)
	defer cancel()
	drainErr := srv.Shutdown(dctx) // returns once every session has ended
	stopVAD()
	if err := hs.Shutdown(dctx); err != nil && drainErr == nil {
		drainErr = err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) && drainErr == nil {
		drainErr = err
	}
	if drainErr != nil {
		return fmt.Errorf("drain: %w", drainErr)
	}
	log.Info("stopped")
	return nil
}
