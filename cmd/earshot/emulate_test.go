package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"
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
	td.Cmp(t, log, td.Re(`msg="emulate: listening".* recognizer=energy-test `))
	td.Cmp(t, log, td.Contains(`msg="emulate: stopped"`))
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
