package testrig

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"earshot/pipeline"
	"earshot/stages"
)

// StartGatewayProvider serves a gateway accepting ClientKey whose upstream
// is p (the local recognizer, a wrapper that records what a session sends
// upstream, ...), and returns it with its /v4/listen URL. deps may give
// OnSessionEnd, Metrics and Logger; its Provider is replaced by p, and a
// missing Metrics set or Logger is filled in. The pace limit is off
// unless cfg.MaxPace sets it (tests stream far faster than real time).
// The server is shut down by the test's cleanup; p is not closed.
func StartGatewayProvider(tb testing.TB, p stages.Provider, cfg pipeline.Config, deps pipeline.Deps) (*pipeline.Server, string) {
	tb.Helper()
	cfg.APIKeys = []string{ClientKey}
	if cfg.MaxPace == 0 {
		cfg.MaxPace = -1 // test clients stream far faster than real time
	}
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
