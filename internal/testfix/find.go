package testfix

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"earshot/stages/local"
)

// FindDir looks for the folder rel in the working directory and its
// ancestors (a test runs in its package's folder), and returns its path.
func FindDir(tb testing.TB, rel string) (string, bool) {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if p := filepath.Join(dir, rel); isDir(p) {
			return p, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// LocalProvider loads the local recognizer with cfg, on ModelDir when
// cfg.ModelDir is empty, and closes it at the end of the test. The test is
// skipped when the binary was built without the pocketsphinx tag or the
// model folder is missing.
func LocalProvider(tb testing.TB, cfg local.Config) *local.Provider {
	tb.Helper()
	if !local.Available {
		tb.Skip("the local recognizer needs the pocketsphinx build tag")
	}
	if cfg.ModelDir == "" {
		cfg.ModelDir = ModelDir(tb)
	}
	p, err := local.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	return p
}
