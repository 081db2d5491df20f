//go:build pocketsphinx

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/client"
	"earshot/internal/testfix"
	"earshot/stages"
	"earshot/stages/deepgram"
	"earshot/stages/local"
)

func TestEmulatePocketsphinxMissingModel(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-model")
	for name, args := range map[string][]string{
		"flag": {"--recognizer", "pocketsphinx", "--model-dir", missing},
		"env":  {"--recognizer", "pocketsphinx"},
	} {
		t.Run(name, func(t *testing.T) {
			if name == "env" {
				t.Setenv("EMULATE_MODEL_DIR", missing)
			}
			var stderr bytes.Buffer
			err := runEmulate(context.Background(), args, &stderr)
			td.Cmp(t, err, td.ErrorIs(local.ErrNoModel))
			td.Cmp(t, err, td.All(td.Contains(missing), td.Contains(local.SetupScript)), "a clear start-up error")
			td.Cmp(t, stderr.String(), td.Not(td.Contains("emulate: listening")))
		})
	}
}

func TestEmulatePocketsphinxBadPoolSize(t *testing.T) {
	err := runEmulate(context.Background(), []string{"--recognizer", "pocketsphinx", "--pool-size", "0"}, io.Discard)
	td.Cmp(t, err, td.String("--pool-size 0: must be at least 1"))
}

// TestEmulatePocketsphinxServesSpeech runs `earshot emulate --recognizer
// pocketsphinx --pool-size 1` and streams the demo conversation through
// the Deepgram provider: its words come back (with the general language
// model: not all of them), a second stream at once is refused with 429, and
// the command shuts down cleanly.
func TestEmulatePocketsphinxServesSpeech(t *testing.T) {
	dir := testfix.ModelDir(t)
	clipsDir := testfix.SynthDir(t)
	b, err := os.ReadFile(filepath.Join(clipsDir, "demo-16k.wav"))
	td.Require(t).CmpNoError(err)
	w, err := client.ParseWAV(b)
	td.Require(t).CmpNoError(err)
	pcm := client.Prepare(w, w.SampleRate)

	r := startEmulate(t, "--recognizer", "pocketsphinx", "--pool-size", "1", "--model-dir", dir, "--api-key", "k")
	dg, err := deepgram.New(deepgram.Config{URL: r.url, APIKey: "k"})
	td.Require(t).CmpNoError(err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sc := stages.StreamConfig{SampleRateHz: w.SampleRate, Channels: 1, Language: "en"}
	s, err := dg.Dial(ctx, sc)
	td.Require(t).CmpNoError(err)
	defer s.Close()

	_, err = dg.Dial(ctx, sc)
	var ue *stages.UpstreamError
	td.Require(t).True(errors.As(err, &ue), "a refusal: %v", err)
	td.Cmp(t, ue.HTTPStatus, 429, "--pool-size 1 bounds the streams")

	for off := 0; off < len(pcm); off += 3200 {
		td.Require(t).CmpNoError(s.SendAudio(ctx, pcm[off:min(off+3200, len(pcm))]))
	}
	td.Require(t).CmpNoError(s.SendControl(ctx, stages.ControlCloseStream))
	var words []string
	for {
		res, err := s.Recv(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		td.Require(t).CmpNoError(err)
		for _, w := range res.Words {
			words = append(words, w.Word)
		}
	}
	tsv, err := os.Open(filepath.Join(clipsDir, "transcripts.tsv"))
	td.Require(t).CmpNoError(err)
	defer tsv.Close()
	ref, err := client.RefFromTSV(tsv, "demo-16k.wav")
	td.Require(t).CmpNoError(err)
	hyp := strings.Join(words, " ")
	t.Logf("heard %q", hyp)
	td.Cmp(t, client.WER(ref, hyp).Rate, td.Lte(0.25), "the general language model, on flite's voices")

	log, err := r.stop()
	td.CmpNoError(t, err)
	td.Cmp(t, log, td.Re(`msg="local recognizer ready" decoders=1 `))
	td.Cmp(t, log, td.Re(`msg="emulate: listening".* recognizer=pocketsphinx `))
	td.Cmp(t, log, td.Contains(`msg="emulate: refusing upgrade: recognizer at capacity"`))
}
