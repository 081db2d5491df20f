package downstream_test

import (
	"context"

	"net"
	"net/http"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"earshot/emulate"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/record"
	"earshot/stages/pusher"
	"earshot/stages/retry"
)

// freeAddr returns a loopback address nothing listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// recorder is an `earshot record` served on addr, as the binary does.
type recorder struct {
	rec *record.Recorder
	hs  *http.Server
	set *metrics.Set
}

// startRecorder serves a Recorder on addr storing under dir.
func startRecorder(t *testing.T, addr, dir string) *recorder {
	t.Helper()
	set := metrics.NewSet()
	rec, err := record.New(record.Config{Dir: dir}, record.Deps{Logger: testrig.Quiet(), Metrics: set})
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	for range 100 { // the port may linger a moment after a restart
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		<-time.After(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{rec: rec, hs: &http.Server{Handler: rec, ReadHeaderTimeout: 5 * time.Second}, set: set}
	go func() { _ = r.hs.Serve(ln) }()
	t.Cleanup(r.stop)
	return r
}

// stop closes the recorder's connections and listener, as a process
// that exits does.
func (r *recorder) stop() {
	_ = r.hs.Close()
	_ = r.rec.Close()
}

// pusherConfig is the pusher sink's configuration for these tests: the
// defaults' shape with shorter waits.
func pusherConfig(addr string) pusher.Config {
	return pusher.Config{
		URL:                "ws://" + addr,
		Reconnect:          retry.BackoffConfig{BaseMs: 100, CapMs: 1000, Attempts: 6},
		DegradedCooldownMs: 2000,
		Breaker:            retry.BreakerConfig{FailureThreshold: 20, WindowMs: 30000, OpenMs: 2000, FirstOpenMs: 2000},
	}
}

// gateway starts the emulator (its energy-test recognizer) and a gateway
// whose pusher is at addr, with its metrics in set.
func gateway(t *testing.T, cfg pipeline.Config, set *metrics.Set) string {
	t.Helper()
	_, dgURL := testrig.StartEmulator(t, emulate.Config{})
	_, url := testrig.StartGatewayWith(t, dgURL, cfg, pipeline.Deps{Metrics: set, Logger: testrig.Quiet()})
	return url
}

// eventually polls cond every 20 ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("%s: not within %v", what, timeout)
		}
	}
}
