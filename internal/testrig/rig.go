// Package testrig starts a gateway and a Deepgram emulator on loopback
// ports for end-to-end tests and benchmarks. Everything it starts is
// stopped by the test's cleanup.
package testrig

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"earshot/emulate"
	"earshot/pipeline"
	"earshot/stages/deepgram"
)

// Keys used between the rig's parts.
const (
	ClientKey   = "client-key-1"
	UpstreamKey = "dg-key-1"
)

// Quiet is a logger that discards everything.
func Quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// StartEmulator serves an emulator requiring UpstreamKey and returns it
// with its listen URL (ws://127.0.0.1:port/v1/listen).
func StartEmulator(tb testing.TB, cfg emulate.Config) (*emulate.Server, string) {
	tb.Helper()
	cfg.APIKey = UpstreamKey
	emu, err := emulate.NewServer(cfg, Quiet())
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(emu.Handler())
	tb.Cleanup(func() {
		_ = emu.Close()
		hs.Close()
	})
	return emu, "ws" + strings.TrimPrefix(hs.URL, "http") + "/v1/listen"
}

// StartGateway serves a gateway accepting ClientKey whose upstream is the
// Deepgram provider pointed at dgURL, and returns it with its /v4/listen
// URL.
func StartGateway(tb testing.TB, dgURL string, cfg pipeline.Config) (*pipeline.Server, string) {
	tb.Helper()
	return StartGatewayWith(tb, dgURL, cfg, pipeline.Deps{})
}

// StartGatewayWith is StartGateway with some of the gateway's Deps given
// (OnSessionEnd, Metrics); Provider and a missing Logger are filled in.
func StartGatewayWith(tb testing.TB, dgURL string, cfg pipeline.Config, deps pipeline.Deps) (*pipeline.Server, string) {
	tb.Helper()
	p, err := deepgram.New(deepgram.Config{URL: dgURL, APIKey: UpstreamKey})
	if err != nil {
		tb.Fatal(err)
	}
	return StartGatewayProvider(tb, p, cfg, deps)
}

// Metric reads one sample, by its full name with labels, from the
// /metrics of the gateway serving listenURL.
func Metric(tb testing.TB, listenURL, name string) float64 {
	tb.Helper()
	u := "http" + strings.TrimPrefix(strings.TrimSuffix(listenURL, "/v4/listen"), "ws") + "/metrics"
	resp, err := http.Get(u)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		tb.Fatalf("no metric %s at %s", name, u)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// BuildEarshot builds the earshot command into a new temporary folder
// and returns the binary's path and a function that removes the folder;
// the go command's output goes to stderr. For a TestMain, before any
// testing.TB exists.
func BuildEarshot() (bin string, remove func(), err error) {
	dir, err := os.MkdirTemp("", "earshot-bin")
	if err != nil {
		return "", nil, err
	}
	remove = func() { _ = os.RemoveAll(dir) }
	bin = filepath.Join(dir, "earshot")
	build := exec.Command("go", "build", "-o", bin, "earshot/cmd/earshot")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		remove()
		return "", nil, fmt.Errorf("building earshot: %w", err)
	}
	return bin, remove, nil
}
