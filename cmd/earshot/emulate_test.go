package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
)

// listeningURL finds the stream URL in emulate's start-up log line.
var listeningURL = regexp.MustCompile(`msg="emulate: listening".* url=(\S+)`)

// startEmulate runs `earshot emulate --addr 127.0.0.1:0 args...` until the
// test ends (or stop), and returns it once it listens, with its stream URL.
func startEmulate(t *testing.T, args ...string) *cmdRun {
	t.Helper()
	return startCmd(t, "emulate", runEmulate, listeningURL, args...)
}

func TestEmulateEnergyTestIsTheDefault(t *testing.T) {
	r := startEmulate(t)
	td.Cmp(t, r.url, td.Re(`^ws://127\.0\.0\.1:\d+/v1/listen$`))
	log, err := r.stop()
	td.CmpNoError(t, err)
	td.Cmp(t, log, td.Re(`msg="emulate: listening".* protocol=deepgram recognizer=energy-test .*idle_timeout_ms=10000 `))
	td.Cmp(t, log, td.Contains(`msg="emulate: stopped"`))
}

// TestEmulateSoniox: --protocol soniox serves Soniox's path, logs the
// protocol and its default idle timeout, and answers an upgrade with the
// key as a Bearer token; the Deepgram path is not served.
func TestEmulateSoniox(t *testing.T) {
	r := startEmulate(t, "--protocol", "soniox", "--api-key", "k3y")
	td.Require(t).Cmp(r.url, td.Re(`^ws://127\.0\.0\.1:\d+/transcribe-websocket$`))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	_, resp, err := websocket.Dial(ctx, r.url, nil)
	td.CmpError(t, err)
	if td.Cmp(t, resp, td.NotNil()) {
		td.Cmp(t, resp.StatusCode, http.StatusUnauthorized, "the key is required")
	}
	_, resp, err = websocket.Dial(ctx, strings.Replace(r.url, emulate.SonioxPath, "/v1/listen", 1), nil)
	td.CmpError(t, err)
	if td.Cmp(t, resp, td.NotNil()) {
		td.Cmp(t, resp.StatusCode, http.StatusNotFound)
	}

	c, _, err := websocket.Dial(ctx, r.url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer k3y"}}})
	td.Require(t).CmpNoError(err)
	defer c.CloseNow()
	start := `{"model": "stt-rt-v4", "audio_format": "pcm_s16le", "sample_rate": 16000, "num_channels": 1}`
	td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageText, []byte(start)))
	td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageBinary, make([]byte, 3200)))
	td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageBinary, nil))
	_, b, err := c.Read(ctx)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, json.RawMessage(b), td.JSON(`{"tokens": [], "final_audio_proc_ms": 100, "total_audio_proc_ms": 100, "finished": true}`))
	_, _, err = c.Read(ctx)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)

	log, err := r.stop()
	td.CmpNoError(t, err)
	td.Cmp(t, log, td.Re(`msg="emulate: listening".* protocol=soniox .*idle_timeout_ms=20000 `))
	td.Cmp(t, log, td.Not(td.Contains("k3y")), "the key is never logged")
}

func TestEmulateUnknownProtocol(t *testing.T) {
	var stderr bytes.Buffer
	err := runEmulate(context.Background(), []string{"--protocol", "assemblyai"}, &stderr)
	td.Cmp(t, err, td.String(`unknown --protocol "assemblyai" (available: deepgram, soniox)`))
}

func TestEmulateUnknownRecognizer(t *testing.T) {
	var stderr bytes.Buffer
	err := runEmulate(context.Background(), []string{"--recognizer", "whisper"}, &stderr)
	td.Cmp(t, err, td.String(`unknown --recognizer "whisper" (available: `+strings.Join(recognizerNames(), ", ")+")"))
}

// recognizerNames are the --recognizer names of this binary.
func recognizerNames() []string {
	names := []string{"energy-test"}
	if _, ok := emulateRecognizers()[recognizerPocketsphinx]; ok {
		names = append(names, recognizerPocketsphinx)
	}
	return names
}
