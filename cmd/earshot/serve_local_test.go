//go:build pocketsphinx

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/client"
	"earshot/internal/testfix"
	"earshot/stages/local"
)

// Built with the pocketsphinx tag and no DEEPGRAM_API_KEY, serve
// transcribes with the embedded recognizer and says so.

func TestServeAutoIsLocalWithoutAKey(t *testing.T) {
	t.Setenv("DEEPGRAM_API_KEY", "")
	dir := testfix.ModelDir(t)
	wav, err := os.ReadFile(filepath.Join(testfix.SynthDir(t), "demo-16k.wav"))
	td.Require(t).CmpNoError(err)
	w, err := client.ParseWAV(wav)
	td.Require(t).CmpNoError(err)
	tsv, err := os.Open(filepath.Join(testfix.SynthDir(t), "transcripts.tsv"))
	td.Require(t).CmpNoError(err)
	defer tsv.Close()
	ref, err := client.RefFromTSV(tsv, "demo-16k.wav")
	td.Require(t).CmpNoError(err)

	r := startServe(t, "--local-pool-size", "1", "--model-dir", dir)
	url := "ws://" + r.url + "/v4/listen"
	cfg := client.Config{
		URL: url, Key: "k", SampleRate: 16000, Codec: "pcm16",
		Audio: client.Prepare(w, 16000), Pace: 8, Mode: client.ModePodcast,
		WaitFinal: 2 * time.Second, Ref: ref,
	}

	// Not English: refused before a decoder is taken.
	de := cfg
	de.Language = "de"
	rep, err := client.Run(context.Background(), de)
	td.CmpErrorIs(t, err, client.ErrFailed)
	td.Cmp(t, rep.Sessions[0].CloseCode, 1008)
	td.Cmp(t, rep.Sessions[0].CloseReason, td.Contains("de"))

	cfg.Language = "en"
	rep, err = client.Run(context.Background(), cfg)
	td.Require(t).CmpNoError(err)
	s := rep.Sessions[0]
	t.Logf("heard %q", s.Transcript)
	td.Cmp(t, s.WER.Rate, td.Lte(0.25), "flite's voices, the general language model")
	td.Cmp(t, s.SegmentList, td.All(td.Len(td.Gt(0)), td.ArrayEach(td.Smuggle("STTProvider", "local"))))

	// The session's end gives its decoder back (it may still be ending
	// when the client is done).
	deadline := time.Now().Add(10 * time.Second)
	var page string
	for {
		resp, err := http.Get("http://" + r.url + "/metrics")
		td.Require(t).CmpNoError(err)
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		page = string(body)
		if strings.Contains(page, "\nearshot_local_decoders_busy 0\n") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	td.Cmp(t, page, td.All(td.Re(`(?m)^earshot_local_decoders 1$`), td.Re(`(?m)^earshot_local_decoders_busy 0$`)))

	log, err := r.stop()
	td.CmpNoError(t, err)
	td.Cmp(t, log, td.Re(`msg="earshot serving" addr=\S+ stt=local model_dir=\S+ decoders=1 pause_ms=500 `))
	td.Cmp(t, log, td.Not(td.Contains("DEEPGRAM_API_KEY is not set")), "no Deepgram warning: it does not dial Deepgram")
}

func TestServeLocalMissingModel(t *testing.T) {
	t.Setenv("EARSHOT_API_KEYS", "k")
	var stderr bytes.Buffer
	missing := filepath.Join(t.TempDir(), "no-model")
	err := runServe(context.Background(), []string{"--stt", "local", "--model-dir", missing, "--vad-gate", "off"}, &stderr)
	td.CmpTrue(t, errors.Is(err, local.ErrNoModel), "%v", err)
	td.Cmp(t, err.Error(), td.All(td.Contains(local.ModelPackage), td.Contains(local.SetupScript), td.Contains(missing)))
	td.CmpFalse(t, strings.Contains(stderr.String(), "earshot serving"), "it does not start")
}
