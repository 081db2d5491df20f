//go:build pocketsphinx

package emulate_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/client"
	"earshot/emulate"
	"earshot/internal/testfix"
	"earshot/stages"
	"earshot/stages/deepgram"
	"earshot/stages/local"
)

// The tests in this file run the emulator with the real local recognizer
// (pocketsphinx) behind emulate.FromProvider, and talk to it over loopback
// TCP with the Deepgram provider, as the gateway would.

// localEmulator serves an emulator whose recognizer is a fresh local
// provider with poolSize decoders and the JSGF grammar at gram (exact
// transcripts), and returns a Deepgram provider pointed at it. A fresh
// provider per test: synthetic speech is sensitive to a decoder's history.
func localEmulator(t *testing.T, poolSize int, gram string) (*harness, *deepgram.Provider) {
	t.Helper()
	// Closed at the end of the test, after the emulator (cleanups run
	// last registered first).
	p := testfix.LocalProvider(t, local.Config{PoolSize: poolSize, JSGFPath: gram})
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
	dir := testfix.SynthDir(t)
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
	testfix.ModelDir(t) // skip once, not per clip
	for _, c := range speechClips(t) {
		t.Run(c.name, func(t *testing.T) {
			gram, _ := testfix.Grammar(t, c.ref)
			h, dg := localEmulator(t, 1, gram)
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
			// The emulator sends whole milliseconds: the end is the
			// stream's length rounded to the millisecond.
			td.Cmp(t, at, td.N(seconds, 5e-4+1e-6), "the finals cover the whole stream")
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
	gram, _ := testfix.Grammar(t, c.ref)
	h, dg := localEmulator(t, 1, gram)
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
