//go:build !pocketsphinx

package main

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages/local"
)

// Built without the pocketsphinx tag, the binary has no embedded
// recognizer: asking for it says how to build one, and auto means
// Deepgram.

func TestServeLocalNeedsTheTag(t *testing.T) {
	t.Setenv("EARSHOT_API_KEYS", "k")
	var stderr bytes.Buffer
	err := runServe(context.Background(), []string{"--stt", "local", "--vad-gate", "off"}, &stderr)
	td.CmpTrue(t, errors.Is(err, local.ErrUnavailable), "%v", err)
	td.Cmp(t, err, td.Re(`^--stt local: .*-tags pocketsphinx.*scripts/setup-pocketsphinx\.sh`))
}

func TestServeAutoWithoutTheTagIsDeepgram(t *testing.T) {
	t.Setenv("DEEPGRAM_API_KEY", "")
	r := startServe(t)
	log, err := r.stop()
	td.CmpNoError(t, err)
	td.Cmp(t, log, td.Re(`msg="earshot serving" addr=\S+ stt=deepgram `))
	td.Cmp(t, log, td.Contains("DEEPGRAM_API_KEY is not set"))
}
