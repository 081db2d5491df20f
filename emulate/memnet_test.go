package emulate_test

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/internal/memnet"
)

// newPipeHarness serves an emulator over an in-memory network (memnet),
// where a synctest bubble runs it on exact fake time. Call it inside a
// synctest bubble; cleanup closes the emulator, the HTTP server and the
// client's idle connections so that the bubble's goroutines all exit.
func newPipeHarness(t *testing.T, cfg emulate.Config) *harness {
	t.Helper()
	h := &harness{ends: make(chan emulate.StreamSummary, 16), base: "http://emulate.test"}
	cfg.OnStreamEnd = func(s emulate.StreamSummary) { h.ends <- s }
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := emulate.NewServer(cfg, logger)
	td.Require(t).CmpNoError(err)
	h.srv = srv

	ln := memnet.Listen()
	hs := &http.Server{Handler: srv.Handler()}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = hs.Serve(ln)
	}()
	h.client = ln.Client()
	t.Cleanup(func() {
		_ = srv.Close()
		_ = hs.Close()
		<-served
	})
	return h
}
