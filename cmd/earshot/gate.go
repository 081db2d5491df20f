package main

import (
	"flag"
	"fmt"
	"log/slog"

	"github.com/VictoriaMetrics/metrics"

	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/gate"
	"earshot/stages/silero"
)

// gateFlags are serve's flags for the VAD gate.
type gateFlags struct {
	mode       *string
	model      *string
	optional   *bool
	threshold  *float64
	prerollMs  *int
	hangoverMs *int
	finalizeMs *int
	batch      *int
	batchWait  *int
}

// defineGateFlags defines the gate flags on fs.
func defineGateFlags(fs *flag.FlagSet) *gateFlags {
	return &gateFlags{
		mode: envString(fs, "vad-gate", "EARSHOT_VAD_GATE", string(defaultGateMode),
			"VAD gate: off, shadow (decide and count, send everything) or active (send only speech); "+
				"a session's vad_gate=enabled|disabled overrides it"),
		model: envString(fs, "vad-model", silero.ModelEnv, silero.DefaultModelPath,
			"Silero VAD v6 model file, fetched by scripts/fetch-silero.sh"),
		optional: envBool(fs, "vad-optional", "EARSHOT_VAD_OPTIONAL",
			"when the VAD model cannot be loaded, serve with the gate off (logged as an error) instead of refusing to start"),
		threshold: envFloat(fs, "vad-threshold", "EARSHOT_VAD_THRESHOLD", gate.DefaultThreshold,
			"a detector window above this speech probability is speech"),
		prerollMs: envInt(fs, "vad-preroll-ms", "EARSHOT_VAD_PREROLL_MS", gate.DefaultPrerollMs,
			"audio before a speech onset sent with it"),
		hangoverMs: envInt(fs, "vad-hangover-ms", "EARSHOT_VAD_HANGOVER_MS", gate.DefaultHangoverMs,
			"silence after speech still sent before the gate holds audio back"),
		finalizeMs: envInt(fs, "vad-finalize-silence-ms", "EARSHOT_VAD_FINALIZE_SILENCE_MS", connector.DefaultFinalizeSilenceMs,
			"silence after speech (as the active gate marks it) after which the upstream is asked to finalize the utterance; negative: never"),
		batch: envInt(fs, "vad-batch", "EARSHOT_VAD_BATCH", silero.DefaultMaxBatch,
			fmt.Sprintf("most VAD windows of all sessions run together as one batch by the process-wide detector, which reads the model's weights once per batch (at most %d); 0 or 1: every session runs its own detector, unbatched", silero.MaxBatchLimit)),
		batchWait: envInt(fs, "vad-batch-wait-ms", "EARSHOT_VAD_BATCH_WAIT_MS", silero.DefaultMaxWaitMs,
			"longest a VAD window waits for others to join its batch: the gate's decision comes at most this plus the batch's compute later; 0 or negative: no wait, a batch is what is queued"),
	}
}

// defaultGateMode is the server's gate mode unless --vad-gate says
// otherwise.
const defaultGateMode = gate.Active

// config returns the gate configuration, the detector factory and the
// func that stops the detectors (never nil; call it once the sessions are
// gone). The factory is nil when the mode is off, or when the model
// cannot be loaded and --vad-optional lets the gate run off. With
// --vad-batch above 1 it is a process-wide silero.Batcher's, whose
// metrics go to set. A bad mode or value, or a model that cannot be
// loaded, is an error naming what to fix.
func (f *gateFlags) config(log *slog.Logger, set *metrics.Set) (gate.Config, stages.DetectorFactory, func(), error) {
	none := func() {}
	mode, err := gate.ParseMode(*f.mode)
	if err != nil {
		return gate.Config{}, nil, none, fmt.Errorf("--vad-gate: %w", err)
	}
	cfg := gate.Config{Mode: mode, Threshold: *f.threshold, PrerollMs: *f.prerollMs,
		HangoverMs: *f.hangoverMs}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, none, err
	}
	if *f.batch < 0 || *f.batch > silero.MaxBatchLimit {
		return cfg, nil, none, fmt.Errorf("--vad-batch %d: want 0 to %d", *f.batch, silero.MaxBatchLimit)
	}
	if mode == gate.Off {
		return cfg, nil, none, nil
	}
	m, err := silero.Load(*f.model)
	switch {
	case err == nil && *f.batch <= 1:
		return cfg, silero.Detectors(m), none, nil
	case err == nil:
		wait := *f.batchWait
		if wait <= 0 {
			wait = -1 // silero's "no wait"
		}
		b := silero.NewBatcher(m, silero.BatchConfig{MaxBatch: *f.batch, MaxWaitMs: wait}, silero.BatchDeps{Metrics: set})
		return cfg, b.Detectors(), b.Close, nil
	case *f.optional:
		log.Error("VAD model unavailable: the gate is OFF, every second of audio goes upstream", "model", *f.model, "err", err)
		cfg.Mode = gate.Off
		return cfg, nil, none, nil
	default:
		return cfg, nil, none, fmt.Errorf("--vad-gate %s: %w (or --vad-gate off, or --vad-optional to serve without it)", mode, err)
	}
}
