package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/client"
	"earshot/emulate"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/stages/ingest"
)

// writeWAV writes 16-bit PCM frames (interleaved channels) as a WAV file.
func writeWAV(t *testing.T, name string, rate, channels int, pcm []byte) string {
	t.Helper()
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + len(pcm)))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1))
	le(uint16(channels))
	le(uint32(rate))
	le(uint32(rate * channels * 2))
	le(uint16(channels * 2))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(len(pcm)))
	b.Write(pcm)
	path := filepath.Join(t.TempDir(), name)
	td.Require(t).CmpNoError(os.WriteFile(path, b.Bytes(), 0o600))
	return path
}

// stereo duplicates mono 16-bit PCM into two channels.
func stereo(mono []byte) []byte {
	out := make([]byte, 0, 2*len(mono))
	for i := 0; i+1 < len(mono); i += 2 {
		out = append(out, mono[i], mono[i+1], mono[i], mono[i+1])
	}
	return out
}

func startRig(t *testing.T) string {
	t.Helper()
	_, dg := testrig.StartEmulator(t, emulate.Config{Recognizer: emulate.EnergyTest})
	_, url := testrig.StartGateway(t, dg, pipeline.Config{})
	return url
}

func TestStreamJSON(t *testing.T) {
	url := startRig(t)
	// 48 kHz stereo in, 8 kHz mono pcm8 out: the bursts must survive.
	wav := writeWAV(t, "conv.wav", 48000, 2, stereo(testrig.Conversation(48000)))
	var stdout, stderr bytes.Buffer
	err := runStream(context.Background(), []string{
		"--url", url, "--key", testrig.ClientKey, "--sample-rate", "8000", "--pace", "0",
		"--wait-final", "1", "--json", "--ref", "T500, t1500; t3000 t4000.", wav,
	}, &stdout, &stderr)
	td.Require(t).CmpNoError(err, stderr.String())

	var rep client.Report
	td.Require(t).CmpNoError(json.Unmarshal(stdout.Bytes(), &rep), stdout.String())
	td.Cmp(t, rep.Codec, "pcm8")
	td.Cmp(t, rep.SampleRate, 8000)
	td.Cmp(t, rep.Sessions, td.Len(1))
	td.Cmp(t, rep.Sessions[0].Transcript, "t500 t1500 t3000 t4000")
	td.Cmp(t, rep.Sessions[0].CloseCode, 1000)
	td.Cmp(t, rep.Aggregate, td.SuperJSONOf(`{
		"sessions": 1, "connected": 1, "failed": 0, "close_codes": {"1000": 1},
		"segments": 3, "words": 4, "audio_sent_s": 5,
		"wer": {"rate": 0, "edits": 0, "ref_words": 4, "hyp_words": 4},
		"first_segment": SuperMapOf({"count": 1}), "update_latency": SuperMapOf({"count": 3})
	}`))
	td.Cmp(t, stderr.String(), td.Contains("stream: conv.wav: 48000 Hz, 2 channel(s), 16-bit PCM, 5.00 s; sending mono 8000 Hz pcm8\n"))
	td.Cmp(t, stderr.String(), td.Contains("+ SPEAKER_0"), "with --json the live transcript goes to stderr")
}

// TestStreamCodecs: --codec sends device-shaped packets, one per frame,
// which the gateway decodes back into the same words; codecs whose
// encoder or decoder this build lacks (libopus, liblc3, libavcodec: -tags
// libcodecs; aac is encoded by the ffmpeg command) are skipped with the
// reason.
func TestStreamCodecs(t *testing.T) {
	url := startRig(t)
	wav := writeWAV(t, "conv.wav", 16000, 1, testrig.Conversation(16000))
	for _, tc := range []struct {
		codec   string
		packets string
	}{
		{"mulaw16", "250 mulaw16 packets of 20.0 ms"},
		{"opus", "500 opus packets of 10.0 ms"},
		{"opus_fs320", "250 opus_fs320 packets of 20.0 ms"},
		{"lc3_fs1030", "500 lc3_fs1030 packets of 10.0 ms"},
		{"aac", "aac packets of 64.0 ms"},
	} {
		t.Run(tc.codec, func(t *testing.T) {
			if info, _ := ingest.Lookup(ingest.Codec(tc.codec)); !info.Available {
				t.Skipf("the gateway decodes %s in %s", tc.codec, info.Needs)
			}
			var stdout, stderr bytes.Buffer
			err := runStream(context.Background(), []string{
				"--url", url, "--key", testrig.ClientKey, "--sample-rate", "16000", "--codec", tc.codec,
				"--pace", "0", "--wait-final", "1", "--json", wav,
			}, &stdout, &stderr)
			if errors.Is(err, client.ErrEncoder) {
				t.Skip(err)
			}
			td.Require(t).CmpNoError(err, stderr.String())
			var rep client.Report
			td.Require(t).CmpNoError(json.Unmarshal(stdout.Bytes(), &rep), stdout.String())
			td.Cmp(t, rep.Codec, tc.codec)
			td.Cmp(t, rep.Sessions[0].CloseCode, 1000)
			td.Cmp(t, rep.Sessions[0].Transcript, td.Re(`^t5\d\d t15\d\d t30\d\d t40\d\d$`), "the four bursts")
			td.Cmp(t, rep.Aggregate.AudioSentS, 5.0, "the audio, not the packets' padding")
			td.Cmp(t, stderr.String(), td.Contains(tc.packets))
		})
	}
}

func TestStreamText(t *testing.T) {
	url := startRig(t)
	dir := t.TempDir()
	wav := writeWAV(t, "conv-16k.wav", 16000, 1, testrig.Conversation(16000))
	tsv := filepath.Join(dir, "transcripts.tsv")
	td.Require(t).CmpNoError(os.WriteFile(tsv,
		[]byte("file\ttext\tsample_rate\tduration_s\nconv-16k.wav\tt500 t1500 t3000 t4001\t16000\t5\n"), 0o600))
	var stdout, stderr bytes.Buffer
	// Flags after the file are parsed too.
	err := runStream(context.Background(), []string{
		wav, "--url", url, "--key", testrig.ClientKey, "--pace", "20", "--wait-final", "1", "--ref-file", tsv,
		"--mode", "concurrent", "--sessions", "2", "--stagger", "0.1",
	}, &stdout, &stderr)
	td.Require(t).CmpNoError(err, stderr.String())
	out := stdout.String()
	for _, want := range []string{
		"] connected\n",
		"status ready\n",
		"+ SPEAKER_0   0.00-  1.40 t500 t1500  (",
		"+ SPEAKER_1   2.50-  2.90 t3000  (",
		"concurrent, 16000 Hz pcm16, pace 20, 1 loop(s) of 5.00 s audio, speech from 0.50 s; ran ",
		"session 0: ok\n",
		"session 1: ok\n",
		"  connection held  ",
		"closed by client with 1000 ",
		"  segments         3 (0 deleted, 3 updates), 4 words\n",
		"  WER              25.0% (1 edits / 4 reference words; 4 words heard)\n",
		"  transcript       t500 t1500 t3000 t4000\n",
		"aggregate: 2 session(s), 2 connected, 0 failed\n",
		"close codes 1000×2\n",
		"  segments         6 (0 deleted, 6 updates), 8 words\n",
		"  update latency   p50 ",
		"  WER              25.0% (2 edits / 8 reference words; 8 words heard)\n",
	} {
		td.Cmp(t, out, td.Contains(want))
	}
	td.Cmp(t, out, td.Re(`\[s1 +\d+\.\d\ds\] connected`), "session-tagged live lines")
}

func TestStreamFailureExitStatus(t *testing.T) {
	url := startRig(t)
	wav := writeWAV(t, "conv.wav", 16000, 1, testrig.Conversation(16000))
	var stdout, stderr bytes.Buffer
	t.Setenv("EARSHOT_API_KEY", "not-a-key")
	code := run(context.Background(), []string{"stream", "--url", url, "--pace", "0", "--quiet", wav}, &stdout, &stderr)
	td.Cmp(t, code, 1)
	td.Cmp(t, stderr.String(), td.Contains("earshot stream: 1 of 1 sessions: session failed\n"))
	td.Cmp(t, stdout.String(), td.Contains("session 0: FAILED: closed by server with 1008 "))
	td.Cmp(t, stdout.String(), td.Not(td.Contains("] connected")), "--quiet")

	err := runStream(context.Background(), []string{"--url", url, "--pace", "0", "--json", wav}, &stdout, &stderr)
	td.CmpTrue(t, errors.Is(err, client.ErrFailed))
}

func TestStreamArgs(t *testing.T) {
	wav := writeWAV(t, "a.wav", 8000, 1, make([]byte, 1600))
	notWAV := filepath.Join(t.TempDir(), "b.wav")
	td.Require(t).CmpNoError(os.WriteFile(notWAV, []byte("hello"), 0o600))
	for _, tc := range []struct {
		name string
		args []string
		err  any
	}{
		{"help", []string{"-h"}, flag.ErrHelp},
		{"no file", nil, td.String("want one WAV file, got 0 arguments")},
		{"two files", []string{wav, wav}, td.String("want one WAV file, got 2 arguments")},
		{"sessions outside concurrent", []string{"--sessions", "2", wav}, td.String("--sessions and --stagger apply to --mode concurrent")},
		{"disconnect-after outside disconnect", []string{"--disconnect-after", "2", wav}, td.String("--disconnect-after applies to --mode disconnect")},
		{"both refs", []string{"--ref", "a", "--ref-file", "x.tsv", wav}, td.String("give --ref or --ref-file, not both")},
		{"negative pace", []string{"--pace", "-1", wav}, td.String("bad --pace -1")},
		{"bad mode", []string{"--mode", "talk", wav}, td.String(`unknown mode "talk" (podcast, disconnect, concurrent)`)},
		{"missing file", []string{"/nonexistent.wav"}, td.Contains("no such file")},
		{"not a wav", []string{notWAV}, td.String(notWAV + ": not a RIFF/WAVE file")},
		{"no row", []string{"--ref-file", "../../fixtures/speech-synth/transcripts.tsv", wav},
			td.String("../../fixtures/speech-synth/transcripts.tsv: no row for a.wav")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := runStream(context.Background(), tc.args, &stdout, &stderr)
			if e, ok := tc.err.(error); ok {
				td.CmpErrorIs(t, err, e)
				return
			}
			td.Cmp(t, err, td.Smuggle(func(err error) string { return err.Error() }, tc.err))
		})
	}
}

func TestStreamHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	td.Cmp(t, run(context.Background(), []string{"stream", "-h"}, &stdout, &stderr), 0)
	td.Cmp(t, stderr.String(), td.HasPrefix("usage: earshot stream [flags] file.wav\n"))
	td.Cmp(t, stderr.String(), td.Contains("-wait-final float"))
	td.Cmp(t, strings.Contains(stderr.String(), "not-a-key"), false)
	stdout.Reset()
	td.Cmp(t, run(context.Background(), []string{"help"}, &stdout, &stderr), 0)
	td.Cmp(t, stdout.String(), td.Contains("  stream    stream a WAV file"))
}
