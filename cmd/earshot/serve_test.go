package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"

	"github.com/maxatome/go-testdeep/td"
)

// servingAddr finds the listen address in serve's start-up log line.
var servingAddr = regexp.MustCompile(`msg="earshot serving" addr=(\S+)`)

// startServe runs `earshot serve --addr 127.0.0.1:0 args...` with one
// client key, "k", and returns it once it listens, with its address.
func startServe(t *testing.T, args ...string) *cmdRun {
	t.Helper()
	t.Setenv("EARSHOT_API_KEYS", "k")
	return startCmd(t, "serve", runServe, servingAddr, args...)
}

func TestServeUnknownSTT(t *testing.T) {
	t.Setenv("EARSHOT_API_KEYS", "k")
	var stderr bytes.Buffer
	err := runServe(context.Background(), []string{"--stt", "whisper"}, &stderr)
	td.Cmp(t, err, td.String(`unknown --stt "whisper" (available: auto, deepgram, local)`))
}

func TestServeAutoUsesDeepgramWithAKey(t *testing.T) {
	t.Setenv("DEEPGRAM_API_KEY", "secret-upstream-key")
	r := startServe(t)
	log, err := r.stop()
	td.CmpNoError(t, err)
	td.Cmp(t, log, td.Re(`msg="earshot serving" addr=\S+ stt=deepgram upstream=wss://api\.deepgram\.com/v1/listen model=nova-3\n`))
	td.Cmp(t, log, td.Not(td.Contains("secret-upstream-key")), "the key is never logged")
	td.Cmp(t, log, td.Not(td.Contains("DEEPGRAM_API_KEY is not set")))
}

func TestServeExplicitDeepgramWithoutAKeyWarns(t *testing.T) {
	t.Setenv("DEEPGRAM_API_KEY", "")
	r := startServe(t, "--stt", "deepgram", "--deepgram-url", "ws://127.0.0.1:9/v1/listen")
	log, err := r.stop()
	td.CmpNoError(t, err)
	td.Cmp(t, log, td.Contains("DEEPGRAM_API_KEY is not set"))
	td.Cmp(t, log, td.Re(`stt=deepgram upstream=ws://127\.0\.0\.1:9/v1/listen `))
}
