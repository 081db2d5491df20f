//go:build pocketsphinx

package emulate_test

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/client"
	"earshot/emulate"
	"earshot/stages"
	"earshot/stages/deepgram"
	"earshot/stages/local"
)

// The tests in this file run the emulator with the real local recognizer
// (pocketsphinx) behind emulate.FromProvider, and talk to it over loopback
// TCP with the Deepgram provider, as the gateway would.

// findUp looks for the folder rel in the working directory and its
// ancestors.
func findUp(t *testing.T, rel string) (string, bool) {
	t.Helper()
	dir, err := os.Getwd()
	td.Require(t).CmpNoError(err)
	for {
		p := filepath.Join(dir, rel)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// localModelDir is $EARSHOT_MODEL_DIR, else the repository's primed model
// folder; the test skips when there is none.
func localModelDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv(local.ModelDirEnv); d != "" {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			t.Skipf("%s=%s is not a folder: run %s", local.ModelDirEnv, d, local.SetupScript)
		}
		return d
	}
	d, ok := findUp(t, local.DefaultModelDir)
	if !ok {
		t.Skipf("no pocketsphinx model folder %s above the working directory and %s unset: run %s",
			local.DefaultModelDir, local.ModelDirEnv, local.SetupScript)
	}
	return d
}

// speechSynth is fixtures/speech-synth; the test skips when it is absent.
func speechSynth(t *testing.T) string {
	t.Helper()
	d, ok := findUp(t, filepath.Join("fixtures", "speech-synth"))
	if !ok {
		t.Skip("fixtures/speech-synth not found above the working directory")
	}
	return d
}

// grammarFor returns the fixtures' JSGF grammar (*.gram) whose
// sentences, one after the other, make up ref; the test skips when none
// does.
func grammarFor(t *testing.T, ref string) string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(speechSynth(t), "*.gram"))
	td.Require(t).CmpNoError(err)
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		td.Require(t).CmpNoError(err)
		if madeOf(ref, grammarSentences(string(raw))) {
			return path
		}
	}
	t.Skipf("no grammar in fixtures/speech-synth allows %q", ref)
	return ""
}

// grammarSentences are the alternatives of a grammar's one public rule,
// one per line ("  | words").
func grammarSentences(gram string) []string {
	var alts []string
	for _, line := range strings.Split(gram, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "|"))
		if line != "" && !strings.ContainsAny(line, "#;<=") {
			alts = append(alts, line)
		}
	}
	return alts
}

// madeOf reports whether ref is a sequence of the sentences.
func madeOf(ref string, sentences []string) bool {
	if ref == "" {
		return true
	}
	for _, s := range sentences {
		if rest, ok := strings.CutPrefix(ref, s); ok && (rest == "" || rest[0] == ' ') && madeOf(strings.TrimPrefix(rest, " "), sentences) {
			return true
		}
	}
	return false
}

// localEmulator serves an emulator whose recognizer is a fresh local
// provider with poolSize decoders and the JSGF grammar at gram (exact
// transcripts), and returns a Deepgram provider pointed at it. A fresh
// provider per test: synthetic speech is sensitive to a decoder's history.
func localEmulator(t *testing.T, poolSize int, gram string) (*harness, *deepgram.Provider) {
	t.Helper()
	p, err := local.New(local.Config{
		ModelDir: localModelDir(t),
		PoolSize: poolSize,
		JSGFPath: gram,
	}, slog.New(slog.DiscardHandler))
	td.Require(t).CmpNoError(err)
	t.Cleanup(func() { _ = p.Close() }) // after the emulator's cleanup
	h := newHarness(t, emulate.Config{APIKey: testKey, Recognizer: emulate.FromProvider(p)})
	dg, err := deepgram.New(deepgram.Config{URL: "ws" + strings.TrimPrefix(h.base, "http") + "/v1/listen", APIKey: testKey})
	td.Require(t).CmpNoError(err)
	return h, dg
}

// speechClip is one row of transcripts.tsv with its audio.
type speechClip struct {
	name, ref string
	rate      int
	pcm       []byte // linear16 mono
}

// speechClips reads every clip that fixtures/speech-synth/transcripts.tsv
// names.
func speechClips(t *testing.T) []speechClip {
	t.Helper()
	dir := speechSynth(t)
	f, err := os.Open(filepath.Join(dir, "transcripts.tsv"))
	td.Require(t).CmpNoError(err)
	defer f.Close()
	var clips []speechClip
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 2 || cols[0] == "file" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, cols[0]))
		td.Require(t).CmpNoError(err)
		w, err := client.ParseWAV(b)
		td.Require(t).CmpNoError(err, cols[0])
		clips = append(clips, speechClip{name: cols[0], ref: cols[1], rate: w.SampleRate, pcm: client.Prepare(w, w.SampleRate)})
	}
	td.Require(t).CmpNoError(sc.Err())
	td.Require(t).Cmp(clips, td.NotEmpty())
	return clips
}

// transcribe streams pcm through dg in 100 ms frames, sends CloseStream
// and returns every result up to the normal end.
func transcribe(t *testing.T, dg stages.Provider, rate int, pcm []byte) []stages.Result {
	t.Helper()
	ctx := testCtx(t)
	require := td.Require(t)
	s, err := dg.Dial(ctx, stages.StreamConfig{SampleRateHz: rate, Channels: 1, Language: "en"})
	require.CmpNoError(err)
	defer s.Close()
	step := rate / 10 * 2
	for off := 0; off < len(pcm); off += step {
		require.CmpNoError(s.SendAudio(ctx, pcm[off:min(off+step, len(pcm))]))
	}
	require.CmpNoError(s.SendControl(ctx, stages.ControlCloseStream))
	var rs []stages.Result
	for {
		r, err := s.Recv(ctx)
		if errors.Is(err, io.EOF) {
			return rs
		}
		require.CmpNoError(err)
		rs = append(rs, r)
	}
}

// TestLocalRecognizerThroughDeepgram streams every synthesized clip (16
// and 8 kHz, some with noise, conversations of several sentences) over
// TCP to the emulator running pocketsphinx with the clip's grammar: the
// Deepgram
// provider gets the exact words, in finals that tile the stream, with
// times inside it.
func TestLocalRecognizerThroughDeepgram(t *testing.T) {
	localModelDir(t) // skip once, not per clip
	for _, c := range speechClips(t) {
		t.Run(c.name, func(t *testing.T) {
			h, dg := localEmulator(t, 1, grammarFor(t, c.ref))
			rs := transcribe(t, dg, c.rate, c.pcm)
			seconds := float64(len(c.pcm)/2) / float64(c.rate)
			var words []string
			var at float64
			for i, r := range rs {
				td.CmpTrue(t, r.IsFinal, "result %d", i)
				td.Cmp(t, r.StartSec, td.N(at, 1e-6), "result %d starts where the previous ended", i)
				at = r.StartSec + r.DurationSec
				for _, w := range r.Words {
					words = append(words, w.Word)
					td.Cmp(t, w.StartSec, td.Between(r.StartSec-1e-6, w.EndSec), "%q starts in its result", w.Word)
					td.Cmp(t, w.EndSec, td.Lte(at+1e-6), "%q ends in its result", w.Word)
				}
			}
			td.Cmp(t, strings.Join(words, " "), c.ref)
			td.Cmp(t, at, td.N(seconds, 1e-6), "the finals cover the whole stream")
			td.Cmp(t, h.summary(t), td.SStruct(emulate.StreamSummary{End: emulate.EndCloseStream, CloseStream: true},
				td.StructFields{"=*": td.Ignore()}))
		})
	}
}

// TestLocalRecognizerAtCapacity: with one decoder a second concurrent
// stream is refused with 429 (retryable, as from Deepgram over its
// concurrency limit), and the decoder serves the next stream once the
// first has ended.
func TestLocalRecognizerAtCapacity(t *testing.T) {
	c := speechClips(t)[0]
	h, dg := localEmulator(t, 1, grammarFor(t, c.ref))
	ctx := testCtx(t)
	sc := stages.StreamConfig{SampleRateHz: testRate, Channels: 1, Language: "en"}
	first, err := dg.Dial(ctx, sc)
	td.Require(t).CmpNoError(err)
	defer first.Close()

	_, err = dg.Dial(ctx, sc)
	var ue *stages.UpstreamError
	td.Require(t).True(errors.As(err, &ue), "an *UpstreamError: %v", err)
	td.Cmp(t, ue.HTTPStatus, 429)
	td.Cmp(t, ue.Code, "TOO_MANY_REQUESTS")
	td.Cmp(t, err, td.ErrorIs(stages.ErrRetryable))

	td.CmpNoError(t, first.SendControl(ctx, stages.ControlCloseStream))
	for {
		_, err := first.Recv(ctx)
		if err != nil {
			td.Cmp(t, err, io.EOF)
			break
		}
	}
	td.Cmp(t, h.summary(t).End, emulate.EndCloseStream)
	td.Cmp(t, h.srv.Stats(), emulate.Stats{UpgradeAttempts: 2, Refused: 1, Accepted: 1})

	var words []string
	for _, r := range transcribe(t, dg, c.rate, c.pcm) {
		for _, w := range r.Words {
			words = append(words, w.Word)
		}
	}
	td.Cmp(t, strings.Join(words, " "), c.ref, "the decoder is free again")
}
