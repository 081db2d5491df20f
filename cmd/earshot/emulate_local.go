package main

import (
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"earshot/emulate"
	"earshot/stages/local"
)

// recognizerPocketsphinx is the --recognizer name of the embedded local
// recognizer (package earshot/stages/local).
const recognizerPocketsphinx = "pocketsphinx"

// emulateRecognizer starts one --recognizer choice at start-up with the
// command's options. It returns the emulator's factory and stop, which
// releases what the recognizer holds; runEmulate calls stop once, on
// shutdown, after the emulator has ended its streams.
type emulateRecognizer func(o recognizerOptions, logger *slog.Logger) (newRec emulate.NewRecognizer, stop func() error, err error)

// recognizerOptions are the flags of the recognizers that take any.
type recognizerOptions struct {
	// modelDir is the pocketsphinx model folder; empty means local's
	// default ($EARSHOT_MODEL_DIR, else local.DefaultModelDir).
	modelDir string
	// poolSize is the number of pocketsphinx decoders, which bounds the
	// emulator's concurrent streams.
	poolSize int
}

// addRecognizerFlags defines the recognizers' flags on fs; the returned
// function reads them after fs.Parse.
func addRecognizerFlags(fs *flag.FlagSet) func() recognizerOptions {
	modelDir := envString(fs, "model-dir", "EMULATE_MODEL_DIR", "",
		"pocketsphinx: acoustic model folder made by "+local.SetupScript+
			" (empty: $"+local.ModelDirEnv+", else "+local.DefaultModelDir+")")
	poolSize := envInt(fs, "pool-size", "EMULATE_POOL_SIZE", local.DefaultPoolSize,
		"pocketsphinx: decoders loaded at start-up (~100 MiB each); more concurrent streams are refused with 429")
	return func() recognizerOptions { return recognizerOptions{modelDir: *modelDir, poolSize: *poolSize} }
}

// emulateRecognizers returns the recognizers `earshot emulate
// --recognizer` offers, by name: energy-test always, pocketsphinx only in
// binaries built with the pocketsphinx tag (local.Available).
func emulateRecognizers() map[string]emulateRecognizer {
	m := map[string]emulateRecognizer{
		// Not speech recognition: one word per burst of loud audio,
		// named after its start ("t1500"). See emulate.EnergyTest.
		"energy-test": func(recognizerOptions, *slog.Logger) (emulate.NewRecognizer, func() error, error) {
			return emulate.EnergyTest, func() error { return nil }, nil
		},
	}
	if local.Available {
		m[recognizerPocketsphinx] = startPocketsphinx
	}
	return m
}

// recognizerUsage describes the --recognizer flag.
func recognizerUsage(names []string) string {
	u := "recognizer: " + strings.Join(names, ", ") +
		" (energy-test is NOT speech recognition: one word per loud burst, named by its start"
	if local.Available {
		return u + "; pocketsphinx transcribes English speech on this machine)"
	}
	return u + "; pocketsphinx needs a binary built with -tags pocketsphinx)"
}

// unknownRecognizer is the error for a --recognizer name that this binary
// does not offer. For pocketsphinx in a binary built without the tag it
// wraps local.ErrUnavailable and says how to build one.
func unknownRecognizer(name string, names []string) error {
	if name == recognizerPocketsphinx && !local.Available {
		return errNoLocal("--recognizer " + name)
	}
	return fmt.Errorf("unknown --recognizer %q (available: %s)", name, strings.Join(names, ", "))
}

// startPocketsphinx loads the local recognizer's decoders (a missing model
// fails here, with local.New's error naming the package and the setup
// script) and serves each stream with one of them. stop closes the
// provider.
func startPocketsphinx(o recognizerOptions, logger *slog.Logger) (emulate.NewRecognizer, func() error, error) {
	if o.poolSize < 1 {
		return nil, nil, fmt.Errorf("--pool-size %d: must be at least 1", o.poolSize)
	}
	p, err := local.New(local.Config{ModelDir: o.modelDir, PoolSize: o.poolSize}, logger)
	if err != nil {
		return nil, nil, fmt.Errorf("--recognizer %s (--model-dir, env EMULATE_MODEL_DIR): %w", recognizerPocketsphinx, err)
	}
	return emulate.FromProvider(p), p.Close, nil
}
