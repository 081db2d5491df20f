package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/testfix"
	"earshot/stages/gate"
	"earshot/stages/ingest"
	"earshot/stages/silero"
)

// servingAddr finds the listen address in serve's start-up log line.
var servingAddr = regexp.MustCompile(`msg="earshot serving" addr=(\S+)`)

// startServe runs `earshot serve --addr 127.0.0.1:0 --vad-gate off
// args...` with one client key, "k", and returns it once it listens, with
// its address. args may turn the gate back on (the last flag wins).
func startServe(t *testing.T, args ...string) *cmdRun {
	t.Helper()
	t.Setenv("EARSHOT_API_KEYS", "k")
	return startCmd(t, "serve", runServe, servingAddr, append([]string{"--vad-gate", "off"}, args...)...)
}

func TestServeUnknownSTT(t *testing.T) {
	t.Setenv("EARSHOT_API_KEYS", "k")
	var stderr bytes.Buffer
	err := runServe(context.Background(), []string{"--stt", "whisper", "--vad-gate", "off"}, &stderr)
	td.Cmp(t, err, td.String(`unknown --stt "whisper" (available: auto, deepgram, soniox, local; or a chain such as deepgram,soniox,local)`))
}

// TestServeSTTChainErrors: a chain names each provider once, and auto
// only alone.
func TestServeSTTChainErrors(t *testing.T) {
	t.Setenv("EARSHOT_API_KEYS", "k")
	for stt, want := range map[string]string{
		"deepgram,deepgram": `--stt "deepgram,deepgram": deepgram twice`,
		"auto,deepgram":     `--stt "auto,deepgram": auto cannot be part of a chain`,
		"deepgram,whisper":  `unknown --stt "whisper" (available: auto, deepgram, soniox, local; or a chain such as deepgram,soniox,local)`,
	} {
		var stderr bytes.Buffer
		err := runServe(context.Background(), []string{"--stt", stt, "--vad-gate", "off"}, &stderr)
		td.Cmp(t, err, td.String(want), stt)
	}
}

func TestServeUnknownOpusDecoder(t *testing.T) {
	t.Setenv("EARSHOT_API_KEYS", "k")
	t.Setenv("DEEPGRAM_API_KEY", "x")
	var stderr bytes.Buffer
	err := runServe(context.Background(), []string{"--opus-decoder", "ffmpeg", "--vad-gate", "off"}, &stderr)
	td.CmpErrorIs(t, err, ingest.ErrNoOpusDecoder)
	td.Cmp(t, err, td.String(`no such opus decoder: "ffmpeg" (auto, pion or libopus)`))
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

func TestServeGate(t *testing.T) {
	model := testfix.VADModel(t)
	t.Setenv("DEEPGRAM_API_KEY", "x")

	r := startServe(t, "--vad-gate", "active", "--vad-model", model, "--vad-hangover-ms", "900")
	log, err := r.stop()
	td.CmpNoError(t, err)
	td.Cmp(t, log, td.Re(`msg="vad gate" mode=active threshold=0\.65 preroll_ms=300 hangover_ms=900 finalize_silence_ms=300\n`))

	missing := filepath.Join(t.TempDir(), "none.onnx")
	var stderr bytes.Buffer
	err = runServe(context.Background(), []string{"--vad-model", missing}, &stderr)
	td.CmpErrorIs(t, err, silero.ErrNoModel, "active by default: the model is required")
	td.Cmp(t, err, td.Re(`fetch-silero\.sh.*--vad-optional`))

	bad := filepath.Join(t.TempDir(), "bad.onnx")
	td.Require(t).CmpNoError(os.WriteFile(bad, []byte("not a model"), 0o600))
	err = runServe(context.Background(), []string{"--vad-model", bad}, &stderr)
	td.CmpErrorIs(t, err, silero.ErrBadModel, "a corrupt model is a start-up error too")

	r = startServe(t, "--vad-gate", "active", "--vad-model", missing, "--vad-optional")
	log, err = r.stop()
	td.CmpNoError(t, err)
	td.Cmp(t, log, td.Re(`level=ERROR msg="VAD model unavailable: the gate is OFF`))
	td.Cmp(t, log, td.Re(`msg="vad gate" mode=off `))

	err = runServe(context.Background(), []string{"--vad-gate", "loud"}, &stderr)
	td.CmpErrorIs(t, err, gate.ErrConfig)
}

func TestServeVADBatchOutOfRange(t *testing.T) {
	t.Setenv("EARSHOT_API_KEYS", "k")
	t.Setenv("DEEPGRAM_API_KEY", "x")
	for _, n := range []string{"-1", "1025"} {
		var stderr bytes.Buffer
		err := runServe(context.Background(), []string{"--vad-batch", n}, &stderr)
		td.Cmp(t, err, td.String("--vad-batch "+n+": want 0 to 1024"))
	}
}
