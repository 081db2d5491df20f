//go:build !pocketsphinx

package main

import (
	"bytes"
	"context"
	"flag"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages/local"
)

func TestEmulatePocketsphinxNeedsTheTag(t *testing.T) {
	var stderr bytes.Buffer
	err := runEmulate(context.Background(), []string{"--recognizer", "pocketsphinx"}, &stderr)
	td.Cmp(t, err, td.ErrorIs(local.ErrUnavailable))
	td.Cmp(t, err, td.Re(`^--recognizer pocketsphinx: .*built without the pocketsphinx tag.*`+
		`go build -tags pocketsphinx -o bin/earshot \./cmd/earshot .*`+local.SetupScript))
	td.CmpEmpty(t, stderr.String(), "nothing started, nothing logged")
}

func TestEmulateHelpWithoutTheTag(t *testing.T) {
	var stderr bytes.Buffer
	td.Cmp(t, runEmulate(context.Background(), []string{"-h"}, &stderr), td.ErrorIs(flag.ErrHelp))
	td.Cmp(t, stderr.String(), td.Re(`recognizer: energy-test \(.*pocketsphinx needs a binary built with -tags pocketsphinx\)`))
	td.Cmp(t, recognizerNames(), []string{"energy-test"})
}
