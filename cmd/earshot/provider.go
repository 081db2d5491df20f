package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/VictoriaMetrics/metrics"

	"earshot/stages"
	"earshot/stages/deepgram"
	"earshot/stages/local"
	"earshot/stages/soniox"
)

// Names of --stt.
const (
	sttAuto     = "auto"
	sttDeepgram = "deepgram"
	sttLocal    = "local"
	sttSoniox   = "soniox"
)

// providerFlags are serve's flags that choose and configure the
// speech-to-text provider.
type providerFlags struct {
	stt       *string
	dgURL     *string
	dgModel   *string
	modelDir  *string
	poolSize  *int
	pauseMs   *int
	dgKeyName string
	sxURL     *string
	sxModel   *string
	sxKeyName string
}

// defineProviderFlags defines the provider flags on fs.
func defineProviderFlags(fs *flag.FlagSet) *providerFlags {
	avail := "not in this binary: build with -tags pocketsphinx"
	if local.Available {
		avail = "in this binary"
	}
	return &providerFlags{
		stt: envString(fs, "stt", "EARSHOT_STT", sttAuto,
			"speech-to-text provider: deepgram, soniox, local (embedded pocketsphinx, "+avail+
				"), or auto: local when it is in this binary and DEEPGRAM_API_KEY is not set, else deepgram; or a chain in order of preference, e.g. deepgram,soniox,local"),
		dgURL: envString(fs, "deepgram-url", "DEEPGRAM_URL", deepgram.DefaultURL,
			"Deepgram live endpoint; a ws:// URL points at a self-hosted Deepgram or earshot emulate"),
		dgModel: envString(fs, "deepgram-model", "DEEPGRAM_MODEL", deepgram.DefaultModel, "Deepgram model"),
		modelDir: envString(fs, "model-dir", local.ModelDirEnv, local.DefaultModelDir,
			"local: primed pocketsphinx model folder, made by "+local.SetupScript),
		poolSize: envInt(fs, "local-pool-size", "EARSHOT_LOCAL_POOL_SIZE", local.DefaultPoolSize,
			"local: decoders loaded at start-up (~97 MiB each); sessions beyond them are closed with 1013"),
		pauseMs: envInt(fs, "local-pause-ms", "EARSHOT_LOCAL_PAUSE_MS", local.DefaultPauseMs,
			"local: silence that ends an utterance and gives its final result"),
		dgKeyName: "DEEPGRAM_API_KEY",
		sxURL: envString(fs, "soniox-url", "SONIOX_URL", soniox.DefaultURL,
			"Soniox real-time endpoint; a ws:// URL points at earshot emulate --protocol soniox"),
		sxModel:   envString(fs, "soniox-model", "SONIOX_MODEL", soniox.DefaultModel, "Soniox real-time model"),
		sxKeyName: "SONIOX_API_KEY",
	}
}

// chosen resolves --stt auto.
func (f *providerFlags) chosen() string {
	if *f.stt != sttAuto {
		return *f.stt
	}
	if local.Available && os.Getenv(f.dgKeyName) == "" {
		return sttLocal
	}
	return sttDeepgram
}

// provider is the chosen provider with what the gateway must know about
// it: the languages it accepts (nil: the gateway's default) and what to
// log about it at start-up.
type provider struct {
	stages.Provider
	languages []string
	logAttrs  []any
	// register adds the provider's own metrics to the server's set; nil
	// when it has none.
	register func(*metrics.Set)
}

// Close releases the provider's resources (the local recognizer's
// decoders) once no session uses it.
func (p *provider) Close() error {
	if c, ok := p.Provider.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// errNoLocal is the error for asking for the embedded recognizer (what
// names the flag) in a binary built without it. It wraps
// local.ErrUnavailable and says how to build one.
func errNoLocal(what string) error {
	return fmt.Errorf("%s: %w: `task build`, or go build -tags pocketsphinx -o bin/earshot ./cmd/earshot "+
		"(needs cgo and the Debian packages %s), then run %s for the model",
		what, local.ErrUnavailable, local.AptPackages, local.SetupScript)
}

// newProviders builds the chain --stt names (one provider, or several
// separated by commas, in order of preference; auto only alone). The
// caller closes them, also on error (what was built is returned).
func (f *providerFlags) newProviders(log *slog.Logger) ([]*provider, error) {
	names := []string{f.chosen()}
	if strings.Contains(*f.stt, ",") {
		names = strings.Split(*f.stt, ",")
	}
	var out []*provider
	seen := map[string]bool{}
	for _, name := range names {
		name = strings.TrimSpace(name)
		if name == sttAuto && len(names) > 1 {
			return out, fmt.Errorf("--stt %q: auto cannot be part of a chain", *f.stt)
		}
		if seen[name] {
			return out, fmt.Errorf("--stt %q: %s twice", *f.stt, name)
		}
		seen[name] = true
		p, err := f.newProvider(name, log)
		if err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}

// chainLanguages are the session languages a chain accepts: every
// language one of its providers serves (nil, the gateway's default, when
// one of them serves any).
func chainLanguages(ps []*provider) []string {
	var langs []string
	for _, p := range ps {
		if p.languages == nil {
			return nil
		}
		for _, l := range p.languages {
			if !slices.Contains(langs, l) {
				langs = append(langs, l)
			}
		}
	}
	return langs
}

// newProvider builds the provider called name.
func (f *providerFlags) newProvider(name string, log *slog.Logger) (*provider, error) {
	switch name {
	case sttDeepgram:
		key := os.Getenv(f.dgKeyName)
		p, err := deepgram.New(deepgram.Config{URL: *f.dgURL, APIKey: key, Model: *f.dgModel})
		if err != nil {
			return nil, fmt.Errorf("deepgram provider: %w", err)
		}
		if key == "" {
			log.Warn("DEEPGRAM_API_KEY is not set: dialing without credentials (fine for a self-hosted Deepgram or earshot emulate)")
		}
		return &provider{Provider: p, logAttrs: []any{"upstream", *f.dgURL, "model", *f.dgModel}}, nil
	case sttSoniox:
		p, err := soniox.New(soniox.Config{URL: *f.sxURL, APIKey: os.Getenv(f.sxKeyName), Model: *f.sxModel})
		if err != nil {
			return nil, fmt.Errorf("soniox provider (SONIOX_API_KEY): %w", err)
		}
		return &provider{Provider: p, languages: soniox.Languages, logAttrs: []any{"upstream", *f.sxURL, "model", *f.sxModel}}, nil
	case sttLocal:
		if !local.Available {
			return nil, errNoLocal("--stt local")
		}
		p, err := local.New(local.Config{ModelDir: *f.modelDir, PoolSize: *f.poolSize, PauseMs: *f.pauseMs}, log)
		if err != nil {
			return nil, err
		}
		return &provider{Provider: p, languages: local.Languages, logAttrs: []any{
			"model_dir", *f.modelDir, "decoders", *f.poolSize, "pause_ms", *f.pauseMs, "languages", local.Languages,
		}, register: func(set *metrics.Set) {
			set.NewGauge("earshot_local_decoders", func() float64 { _, n := p.Decoders(); return float64(n) })
			set.NewGauge("earshot_local_decoders_busy", func() float64 { n, _ := p.Decoders(); return float64(n) })
		}}, nil
	default:
		return nil, fmt.Errorf("unknown --stt %q (available: auto, deepgram, soniox, local; or a chain such as deepgram,soniox,local)", name)
	}
}
