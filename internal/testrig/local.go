package testrig

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"earshot/pipeline"
	"earshot/stages"
	"earshot/stages/local"
)

// StartGatewayProvider serves a gateway accepting ClientKey whose upstream
// is p (the local recognizer, a wrapper that records what a session sends
// upstream, ...), and returns it with its /v4/listen URL. deps may give
// OnSessionEnd, Metrics and Logger; its Provider is replaced by p, and a
// missing Metrics set or Logger is filled in. The server is shut down by
// the test's cleanup; p is not closed.
func StartGatewayProvider(tb testing.TB, p stages.Provider, cfg pipeline.Config, deps pipeline.Deps) (*pipeline.Server, string) {
	tb.Helper()
	cfg.APIKeys = []string{ClientKey}
	deps.Provider = p
	if deps.Metrics == nil {
		deps.Metrics = metrics.NewSet()
	}
	if deps.Logger == nil {
		deps.Logger = Quiet()
	}
	srv, err := pipeline.New(cfg, deps)
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	return srv, "ws" + strings.TrimPrefix(hs.URL, "http") + "/v4/listen"
}

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
	p, err := local.New(cfg, Quiet())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	return p
}
