//go:build pocketsphinx

package local_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/client"
	"earshot/internal/testfix"
	"earshot/stages"
	"earshot/stages/local"
)

func TestAvailable(t *testing.T) {
	td.CmpTrue(t, local.Available)
}

// clipNamed returns the shared real-speech clip called name.
func clipNamed(t testing.TB, name string) clip {
	t.Helper()
	return clipIn(t, testfix.SpeechDir(t), name)
}

// synthClip returns the synthesized clip called name (of
// fixtures/speech-synth, which every clone has).
func synthClip(t testing.TB, name string) clip {
	t.Helper()
	return clipIn(t, testfix.SynthDir(t), name)
}

// clipIn returns the clip called name of the fixtures folder dir.
func clipIn(t testing.TB, dir, name string) clip {
	t.Helper()
	for _, c := range loadClips(t, dir) {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no clip %s in %s", name, dir)
	return clip{}
}

// sentenceClips cuts c, a synthesized conversation, into one clip per
// sentence of its reference (testfix.Sentences), each with its sentence
// as ref: the cuts are in the middle of its pauses, the stretches of at
// least 0.6 s whose 10 ms frames are all below -40 dBFS (the fixtures put
// 0.8 or 1 s between sentences, and at most faint noise in them). The
// clips, joined, are c again.
func sentenceClips(t testing.TB, c clip) []clip {
	t.Helper()
	sentences := testfix.Sentences(t, c.ref)
	frame := c.rate / 100 // samples
	quiet := func(f int) bool {
		var sum float64
		for i := f * frame; i < (f+1)*frame; i++ {
			v := float64(int16(uint16(c.pcm[2*i]) | uint16(c.pcm[2*i+1])<<8))
			sum += v * v
		}
		return math.Sqrt(sum/float64(frame)) < 32768*0.01 // -40 dBFS
	}
	frames := len(c.pcm) / 2 / frame
	var cuts []int // in bytes
	for f := 0; f < frames; {
		if !quiet(f) {
			f++
			continue
		}
		from := f
		for f < frames && quiet(f) {
			f++
		}
		if from > 0 && f < frames && f-from >= 60 {
			cuts = append(cuts, (from+f)/2*frame*2)
		}
	}
	td.Require(t).Len(cuts, len(sentences)-1, "%s: a pause between every two of its %d sentences", c.name, len(sentences))
	out := make([]clip, len(sentences))
	from := 0
	for i, s := range sentences {
		to := len(c.pcm)
		if i < len(cuts) {
			to = cuts[i]
		}
		out[i] = clip{name: fmt.Sprintf("%s#%d", c.name, i+1), ref: s, rate: c.rate, pcm: c.pcm[from:to]}
		from = to
	}
	return out
}

// joinClips is the clips (at one rate) one after the other.
func joinClips(name string, cs ...clip) clip {
	j := clip{name: name, rate: cs[0].rate}
	var refs []string
	for _, c := range cs {
		j.pcm = append(j.pcm, c.pcm...)
		refs = append(refs, c.ref)
	}
	j.ref = strings.Join(refs, " ")
	return j
}

// checkCovering checks the stream-level contract of a result sequence:
// final results are contiguous from 0 to total seconds, words lie inside
// their result's span and in time order, confidences are in [0, 1], and
// the punctuated forms are the bare words sentence-cased (see
// punctuated).
func checkCovering(t *testing.T, rs []stages.Result, total float64) {
	t.Helper()
	end := 0.0
	for i, r := range rs {
		for j, w := range r.Words {
			td.Cmp(t, w.StartSec, td.Between(r.StartSec-0.35, r.StartSec+r.DurationSec+1e-6), "result %d word %d start", i, j)
			td.Cmp(t, w.EndSec, td.Between(w.StartSec, r.StartSec+r.DurationSec+1e-6), "result %d word %d end", i, j)
			td.Cmp(t, w.Confidence, td.Between(0.0, 1.0), "result %d word %d confidence", i, j)
			td.Cmp(t, w.Punctuated, punctuated(w.Word, j == 0, r.IsFinal && j == len(r.Words)-1), "result %d word %d punctuated", i, j)
			td.CmpNot(t, w.Word, td.Re(`[<\[(]`), "no fillers, no variants")
			if j > 0 {
				td.Cmp(t, w.StartSec, td.Gte(r.Words[j-1].EndSec-1e-6), "words in order")
			}
		}
		if !r.IsFinal {
			continue
		}
		td.Cmp(t, r.StartSec, td.N(end, 1e-6), "result %d starts where the previous final ended", i)
		end = r.StartSec + r.DurationSec
	}
	// The resampler holds back at most a couple of milliseconds.
	td.Cmp(t, end, td.N(total, 0.005), "finals cover the whole stream")
}

// TestGrammarExact decodes the synthesized fixtures (16 and 8 kHz, some
// with noise, a dialogue of three sentences) with their JSGF grammar:
// every sentence exact whatever the framing, one final result with words
// per sentence (the dialogue's pauses end its utterances).
func TestGrammarExact(t *testing.T) {
	for _, c := range loadClips(t, testfix.SynthDir(t)) {
		gram, sentences := testfix.Grammar(t, c.ref)
		for _, frame := range []int{frameBytes(c.rate, 100), frameBytes(c.rate, 37) + 1, 0} {
			// A new decoder each time: every decode starts from the
			// primed mean, whatever the order (synthetic speech is far
			// from what the model knows, and sensitive to it).
			p := testfix.LocalProvider(t, local.Config{PoolSize: 1, JSGFPath: gram})
			rs := decode(t, p, c.rate, c.pcm, frame)
			td.Cmp(t, transcript(rs), c.ref, "%s in frames of %d bytes", c.name, frame)
			checkCovering(t, rs, c.seconds())
			var said int
			for _, r := range rs {
				if r.IsFinal && len(r.Words) > 0 {
					said++
					td.CmpTrue(t, r.SpeechFinal || r.FromFinalize, "%s: a final ends at a pause or a Finalize", c.name)
				}
			}
			// Sentences are lowercase without punctuation; the
			// conversations' sentences end where the grammar's do.
			td.Cmp(t, said, max(sentences, 1), "%s: one final per sentence", c.name)
			_ = p.Close()
		}
	}
}

// TestStreamedMatchesDirect: the stream decodes the same whole chunks
// whatever the client's framing, so 100 ms frames, odd-sized frames
// (split samples) and one big send give the same words at the same
// times. The opening two sentences of the demo conversation (7.4 s),
// with the language model: among its many hypotheses the words, their
// times and their confidences (all 1 with a grammar) move with the
// least difference in the audio decoded.
func TestStreamedMatchesDirect(t *testing.T) {
	c := joinClips("demo opening", sentenceClips(t, synthClip(t, "demo-16k.wav"))[:2]...)
	var got [][]stages.Word
	for _, frame := range []int{0, frameBytes(c.rate, 100), 333} {
		// A new decoder each time: same starting state.
		p := testfix.LocalProvider(t, local.Config{PoolSize: 1})
		rs := decode(t, p, c.rate, c.pcm, frame)
		checkCovering(t, rs, c.seconds())
		var words []stages.Word
		for _, r := range rs {
			words = append(words, r.Words...)
		}
		got = append(got, words)
	}
	td.Cmp(t, got[1], got[0], "100 ms frames")
	td.Cmp(t, got[2], got[0], "333-byte frames")
	// Measured: 12% (2 of 17 words).
	td.Cmp(t, client.WER(c.ref, transcript([]stages.Result{{Words: got[0], IsFinal: true}})).Rate, td.Lte(0.25))
}

// downsample2 halves the rate of 16-bit mono pcm with a short low-pass
// (a test's own, independent of the package's resampler).
func downsample2(pcm []byte) []byte {
	n := len(pcm) / 2
	s := func(i int) float64 {
		i = min(max(i, 0), n-1)
		return float64(int16(uint16(pcm[2*i]) | uint16(pcm[2*i+1])<<8))
	}
	// Half-band windowed-sinc taps at odd offsets.
	taps := []float64{0.6294, -0.1962, 0.0951, -0.0490, 0.0230, -0.0088, 0.0024}
	var out []byte
	for i := 0; i < n; i += 2 {
		v := s(i)
		for k, w := range taps {
			off := 2*k + 1
			v += w * (s(i-off) + s(i+off))
		}
		v = math.Round(v / 2)
		x := int16(min(max(v, math.MinInt16), math.MaxInt16))
		out = append(out, byte(x), byte(uint16(x)>>8))
	}
	return out
}

// upsample3 triples the rate of 16-bit mono pcm by linear interpolation.
func upsample3(pcm []byte) []byte {
	n := len(pcm) / 2
	s := func(i int) float64 {
		i = min(i, n-1)
		return float64(int16(uint16(pcm[2*i]) | uint16(pcm[2*i+1])<<8))
	}
	var out []byte
	for i := range n {
		for k := range 3 {
			x := int16(math.Round(s(i) + (s(i+1)-s(i))*float64(k)/3))
			out = append(out, byte(x), byte(uint16(x)>>8))
		}
	}
	return out
}

// TestOtherRates: 8 kHz and 48 kHz input is resampled to the model's
// 16 kHz and recognised, the words at the times they have at 16 kHz (8
// kHz audio has nothing above 4 kHz, which costs the wideband model
// accuracy; with the grammar the sentence still comes out exact).
// TestGrammarExact has clips recorded at 8 kHz too.
func TestOtherRates(t *testing.T) {
	c := synthClip(t, "fox-16k.wav")
	gram, _ := testfix.Grammar(t, c.ref)
	p := testfix.LocalProvider(t, local.Config{PoolSize: 1, JSGFPath: gram})
	direct := decode(t, p, c.rate, c.pcm, 0) // the words at 16 kHz
	td.Require(t).Cmp(transcript(direct), c.ref, "16000 Hz")
	var want []stages.Word
	for _, r := range direct {
		want = append(want, r.Words...)
	}
	for _, tc := range []struct {
		rate int
		pcm  []byte
	}{
		{8000, downsample2(c.pcm)},
		{48000, upsample3(c.pcm)},
	} {
		rs := decode(t, p, tc.rate, tc.pcm, frameBytes(tc.rate, 100))
		checkCovering(t, rs, float64(len(tc.pcm)/2)/float64(tc.rate))
		td.Cmp(t, transcript(rs), c.ref, "%d Hz", tc.rate)
		var got []stages.Word
		for _, r := range rs {
			got = append(got, r.Words...)
		}
		td.Cmp(t, got, td.Len(len(want)), "%d Hz", tc.rate)
		for i := range min(len(got), len(want)) {
			td.Cmp(t, got[i].StartSec, td.N(want[i].StartSec, 0.05), "%d Hz: word %d (%s) time in seconds", tc.rate, i, got[i].Word)
		}
	}
}

// TestStereo averages the channels: the speech in the left one, silence
// in the right.
func TestStereo(t *testing.T) {
	c := synthClip(t, "lights-16k.wav")
	gram, _ := testfix.Grammar(t, c.ref)
	p := testfix.LocalProvider(t, local.Config{PoolSize: 1, JSGFPath: gram})
	stereo := make([]byte, 0, 2*len(c.pcm))
	for i := 0; i+1 < len(c.pcm); i += 2 {
		stereo = append(stereo, c.pcm[i], c.pcm[i+1], 0, 0)
	}
	ctx := context.Background()
	s, err := p.Dial(ctx, stages.StreamConfig{SampleRateHz: 16000, Channels: 2})
	td.Require(t).CmpNoError(err)
	defer s.Close()
	for off := 0; off < len(stereo); off += 999 {
		td.Require(t).CmpNoError(s.SendAudio(ctx, stereo[off:min(off+999, len(stereo))]))
	}
	td.Require(t).CmpNoError(s.SendControl(ctx, stages.ControlCloseStream))
	var rs []stages.Result
	for {
		r, err := s.Recv(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		td.Require(t).CmpNoError(err)
		rs = append(rs, r)
	}
	td.Cmp(t, transcript(rs), c.ref)
}

// TestPausesEndUtterances: a sentence, 1.5 s of silence, another, 3 s of
// silence. The first utterance ends at the pause, PauseMs after its last
// word (a SpeechFinal final while the stream goes on), long silence gives
// empty finals, and everything is covered once.
func TestPausesEndUtterances(t *testing.T) {
	a, b := synthClip(t, "fox-16k.wav"), synthClip(t, "lights-16k.wav")
	gram, _ := testfix.Grammar(t, a.ref+" "+b.ref)
	silence := func(sec float64) []byte { return make([]byte, 2*int(sec*16000)) }
	var pcm []byte
	pcm = append(pcm, a.pcm...)
	pcm = append(pcm, silence(1.5)...)
	pcm = append(pcm, b.pcm...)
	pcm = append(pcm, silence(3)...)
	total := float64(len(pcm)/2) / 16000

	p := testfix.LocalProvider(t, local.Config{PoolSize: 1, PauseMs: 500, JSGFPath: gram})
	rs := decode(t, p, 16000, pcm, frameBytes(16000, 100))
	checkCovering(t, rs, total)
	var spoken []stages.Result
	var empty int
	for _, r := range rs {
		switch {
		case len(r.Words) > 0:
			spoken = append(spoken, r)
		case r.IsFinal:
			empty++
		}
	}
	td.Require(t).Len(spoken, 2, "one final per utterance")
	td.Cmp(t, transcript(spoken[:1]), a.ref)
	td.Cmp(t, transcript(spoken[1:]), b.ref)
	lastWord := spoken[0].Words[len(spoken[0].Words)-1]
	td.Cmp(t, spoken[0], td.Struct(stages.Result{IsFinal: true, SpeechFinal: true}, td.StructFields{
		"StartSec":    0.0,
		"DurationSec": td.N(lastWord.EndSec+0.5, 0.1),
	}), "ended by the pause, not by CloseStream")
	td.Cmp(t, spoken[1].SpeechFinal, true)
	td.Cmp(t, spoken[1].Words[0].StartSec, td.Between(a.seconds()+1.5, a.seconds()+1.5+b.seconds()))
	td.Cmp(t, empty, td.Gte(1), "silence gives empty finals")
}

// TestPartials: with Partials, interim results come before the final
// (the demo conversation's first sentence, with the language model).
func TestPartials(t *testing.T) {
	c := sentenceClips(t, synthClip(t, "demo-16k.wav"))[0]
	p := testfix.LocalProvider(t, local.Config{PoolSize: 1, Partials: true})
	rs := decode(t, p, c.rate, c.pcm, frameBytes(c.rate, 100))
	checkCovering(t, rs, c.seconds())
	var interim int
	for _, r := range rs {
		if !r.IsFinal {
			interim++
			td.Cmp(t, r.StartSec, 0.0)
		}
	}
	td.Cmp(t, interim, td.Gte(3))
	td.CmpTrue(t, rs[len(rs)-1].IsFinal)
}

// TestFinalize: Finalize ends the utterance at once with a FromFinalize
// final; with nothing said it still answers, with an empty final covering
// the audio so far (the connector's acknowledgement and stall probe rely
// on an answer). The stream stays open. The demo conversation's first two
// sentences, each sent whole (up to the middle of the pause after it)
// before a Finalize; PauseMs is longer than the pauses, so only Finalize
// ends the utterances.
func TestFinalize(t *testing.T) {
	demo := synthClip(t, "demo-16k.wav")
	gram, _ := testfix.Grammar(t, demo.ref)
	sentences := sentenceClips(t, demo)
	first, second := sentences[0], sentences[1]
	p := testfix.LocalProvider(t, local.Config{PoolSize: 1, JSGFPath: gram, PauseMs: 2000})
	ctx := context.Background()
	s, err := p.Dial(ctx, stages.StreamConfig{SampleRateHz: 16000, Channels: 1})
	require := td.Require(t)
	require.CmpNoError(err)
	defer s.Close()

	require.CmpNoError(s.SendControl(ctx, stages.ControlFinalize))
	r, err := s.Recv(ctx)
	require.CmpNoError(err)
	td.Cmp(t, r, stages.Result{IsFinal: true, FromFinalize: true}, "nothing sent yet")

	require.CmpNoError(s.SendAudio(ctx, first.pcm))
	require.CmpNoError(s.SendControl(ctx, stages.ControlKeepAlive))
	require.CmpNoError(s.SendControl(ctx, stages.ControlFinalize))
	r, err = s.Recv(ctx)
	require.CmpNoError(err)
	td.Cmp(t, r, td.Struct(stages.Result{IsFinal: true, FromFinalize: true}, td.StructFields{
		"StartSec":    0.0,
		"DurationSec": td.N(first.seconds(), 0.005),
	}))
	td.Cmp(t, transcript([]stages.Result{r}), first.ref)

	require.CmpNoError(s.SendAudio(ctx, second.pcm))
	require.CmpNoError(s.SendControl(ctx, stages.ControlFinalize))
	r, err = s.Recv(ctx)
	require.CmpNoError(err)
	td.Cmp(t, r, td.Struct(stages.Result{IsFinal: true, FromFinalize: true}, td.StructFields{
		"StartSec":    td.N(first.seconds(), 0.005),
		"DurationSec": td.N(second.seconds(), 0.005),
	}))
	td.Cmp(t, transcript([]stages.Result{r}), second.ref)
}

// TestCloseStream: the last results, then io.EOF (for good); the decoder
// is back in the pool at once; sends fail afterwards. PauseMs is longer
// than the clip's trailing silence, so CloseStream ends its utterance.
func TestCloseStream(t *testing.T) {
	c := synthClip(t, "fox-16k.wav")
	gram, _ := testfix.Grammar(t, c.ref)
	p := testfix.LocalProvider(t, local.Config{PoolSize: 1, JSGFPath: gram, PauseMs: 2000})
	ctx := context.Background()
	s, err := p.Dial(ctx, stages.StreamConfig{SampleRateHz: 16000})
	require := td.Require(t)
	require.CmpNoError(err)
	defer s.Close()
	require.CmpNoError(s.SendAudio(ctx, c.pcm))
	require.CmpNoError(s.SendControl(ctx, stages.ControlCloseStream))

	s2, err := p.Dial(ctx, stages.StreamConfig{SampleRateHz: 16000})
	require.CmpNoError(err, "CloseStream gave the decoder back")
	require.CmpNoError(s2.Close())

	r, err := s.Recv(ctx)
	require.CmpNoError(err)
	td.Cmp(t, r, td.Struct(stages.Result{IsFinal: true, FromFinalize: true}, td.StructFields{
		"DurationSec": td.N(c.seconds(), 0.001),
	}))
	td.Cmp(t, transcript([]stages.Result{r}), c.ref)
	for range 2 {
		_, err = s.Recv(ctx)
		td.Cmp(t, err, io.EOF)
	}
	td.CmpErrorIs(t, s.SendAudio(ctx, c.pcm[:320]), local.ErrClosed)
	td.CmpErrorIs(t, s.SendControl(ctx, stages.ControlFinalize), local.ErrClosed)
	td.CmpNoError(t, s.Close())
	td.CmpNoError(t, s.Close())
}

// TestCapacity: Dial never waits; beyond the pool it refuses with a
// retryable 429 wrapping ErrCapacity; closing a stream frees its decoder.
func TestCapacity(t *testing.T) {
	p := testfix.LocalProvider(t, local.Config{PoolSize: 2})
	ctx := context.Background()
	sc := stages.StreamConfig{SampleRateHz: 8000, Channels: 1}
	s1, err := p.Dial(ctx, sc)
	td.Require(t).CmpNoError(err)
	s2, err := p.Dial(ctx, sc)
	td.Require(t).CmpNoError(err)
	busy, total := p.Decoders()
	td.Cmp(t, []int{busy, total}, []int{2, 2})

	start := time.Now()
	_, err = p.Dial(ctx, sc)
	td.Cmp(t, time.Since(start), td.Lt(100*time.Millisecond), "no waiting")
	td.CmpErrorIs(t, err, local.ErrCapacity)
	td.CmpErrorIs(t, err, stages.ErrRetryable)
	td.Cmp(t, stages.Classify(err), stages.ClassRetryable)
	var ue *stages.UpstreamError
	td.Require(t).True(errors.As(err, &ue))
	td.Cmp(t, ue, td.Struct(&stages.UpstreamError{HTTPStatus: 429, Code: "CAPACITY"}, td.StructFields{
		"Reason": "all 2 local decoders busy; try again later",
	}))

	td.CmpNoError(t, s1.Close())
	td.CmpNoError(t, s1.Close())
	busy, total = p.Decoders()
	td.Cmp(t, []int{busy, total}, []int{1, 2}, "once, however often it is closed")
	s3, err := p.Dial(ctx, sc)
	td.Require(t).CmpNoError(err, "Close gave the decoder back")
	_, err = p.Dial(ctx, sc)
	td.CmpErrorIs(t, err, local.ErrCapacity, "only once")
	td.CmpNoError(t, s2.Close())
	td.CmpNoError(t, s3.Close())
}

// TestCloseUnblocks: Close unblocks a waiting Recv (ErrClosed) and later
// calls fail; a cancelled ctx unblocks Recv too. Close is safe
// concurrently with sends: it comes with the first sentence's final of
// the demo conversation, the sends still far from its end and Recv
// waiting for the next final.
func TestCloseUnblocks(t *testing.T) {
	c := synthClip(t, "demo-16k.wav")
	p := testfix.LocalProvider(t, local.Config{PoolSize: 1})
	ctx := context.Background()
	s, err := p.Dial(ctx, stages.StreamConfig{SampleRateHz: 16000})
	td.Require(t).CmpNoError(err)

	said := make(chan struct{}) // closed at the first result
	recvErr := make(chan error, 1)
	go func() {
		for n := 0; ; n++ {
			if _, err := s.Recv(ctx); err != nil {
				recvErr <- err
				return
			}
			if n == 0 {
				close(said)
			}
		}
	}()
	var wg sync.WaitGroup
	wg.Go(func() {
		for off := 0; off < len(c.pcm); off += 3200 {
			if err := s.SendAudio(ctx, c.pcm[off:min(off+3200, len(c.pcm))]); err != nil {
				td.CmpErrorIs(t, err, local.ErrClosed)
				return
			}
		}
	})
	select {
	case <-said:
	case err := <-recvErr:
		t.Fatalf("Recv failed before any result: %v", err)
	}
	td.CmpNoError(t, s.Close())
	select {
	case err := <-recvErr:
		td.CmpErrorIs(t, err, local.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Recv still blocked after Close")
	}
	wg.Wait()
	td.CmpErrorIs(t, s.SendAudio(ctx, c.pcm[:320]), local.ErrClosed)
	_, err = s.Recv(ctx)
	td.CmpErrorIs(t, err, local.ErrClosed)

	s, err = p.Dial(ctx, stages.StreamConfig{SampleRateHz: 16000})
	td.Require(t).CmpNoError(err, "Close gave the decoder back")
	defer s.Close()
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	_, err = s.Recv(cctx)
	td.CmpErrorIs(t, err, context.Canceled)
	td.Cmp(t, stages.Classify(err), stages.ClassAborted)
}

// TestConcurrentStreams decodes on every decoder at once (three clips,
// at 16 and 8 kHz, one of three sentences; each exact with the grammar).
func TestConcurrentStreams(t *testing.T) {
	var clips []clip
	var refs []string
	for _, name := range []string{"fox-16k.wav", "office-8k.wav", "dialogue-8k.wav"} {
		c := synthClip(t, name)
		clips = append(clips, c)
		refs = append(refs, c.ref)
	}
	gram, _ := testfix.Grammar(t, strings.Join(refs, " "))
	p := testfix.LocalProvider(t, local.Config{PoolSize: len(clips), JSGFPath: gram})
	var wg sync.WaitGroup
	for _, c := range clips {
		wg.Go(func() {
			rs := decode(t, p, c.rate, c.pcm, frameBytes(c.rate, 100))
			td.Cmp(t, transcript(rs), c.ref, c.name)
		})
	}
	wg.Wait()
}

// TestDialErrors covers the refusals that are not about capacity.
func TestDialErrors(t *testing.T) {
	p := testfix.LocalProvider(t, local.Config{PoolSize: 1})
	ctx := context.Background()
	td.Cmp(t, p.Name(), "local")

	for _, sc := range []stages.StreamConfig{{}, {SampleRateHz: -8000}, {SampleRateHz: 16000, Channels: 9}} {
		_, err := p.Dial(ctx, sc)
		td.CmpErrorIs(t, err, local.ErrInvalidStreamConfig, "%+v", sc)
		td.Cmp(t, stages.Classify(err), stages.ClassPermanent)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := p.Dial(cctx, stages.StreamConfig{SampleRateHz: 16000})
	td.Cmp(t, stages.Classify(err), stages.ClassAborted)

	s, err := p.Dial(ctx, stages.StreamConfig{SampleRateHz: 11025})
	td.Require(t).CmpNoError(err, "any rate")
	td.CmpErrorIs(t, s.SendControl(ctx, stages.Control(42)), local.ErrUnknownControl)
	td.CmpNoError(t, s.Close())

	td.CmpNoError(t, p.Close())
	td.CmpNoError(t, p.Close())
	_, err = p.Dial(ctx, stages.StreamConfig{SampleRateHz: 16000})
	td.CmpErrorIs(t, err, local.ErrClosed)
}

// TestNewErrors: a missing model gives one clear error naming the package
// and the setup script; bad values are refused.
func TestNewErrors(t *testing.T) {
	dir := testfix.ModelDir(t)
	_, err := local.New(local.Config{ModelDir: filepath.Join(t.TempDir(), "nope")}, quiet)
	td.CmpErrorIs(t, err, local.ErrNoModel)
	td.Cmp(t, err.Error(), td.All(td.Contains("nope"), td.Contains("pocketsphinx-en-us"), td.Contains("scripts/setup-pocketsphinx.sh")))

	t.Setenv(local.ModelDirEnv, filepath.Join(t.TempDir(), "from-env"))
	_, err = local.New(local.Config{}, quiet)
	td.CmpErrorIs(t, err, local.ErrNoModel)
	td.Cmp(t, err.Error(), td.Contains("from-env"))

	empty := t.TempDir()
	_, err = local.New(local.Config{ModelDir: empty}, quiet)
	td.CmpErrorIs(t, err, local.ErrNoModel)
	td.Cmp(t, err.Error(), td.Contains("lacks mdef"))

	_, err = local.New(local.Config{ModelDir: dir, LMPath: "/nonexistent.lm.bin"}, quiet)
	td.CmpErrorIs(t, err, local.ErrNoModel)

	bad := filepath.Join(t.TempDir(), "bad.gram")
	td.Require(t).CmpNoError(os.WriteFile(bad, []byte("this is not a grammar"), 0o600))
	_, err = local.New(local.Config{ModelDir: dir, JSGFPath: bad, PoolSize: 1}, quiet)
	td.CmpErrorIs(t, err, local.ErrInvalidConfig)

	for _, cfg := range []local.Config{{PoolSize: -1}, {ChunkMs: 15}, {ChunkMs: 2000}, {PauseMs: 50}} {
		cfg.ModelDir = dir
		_, err := local.New(cfg, quiet)
		td.CmpErrorIs(t, err, local.ErrInvalidConfig, "%+v", cfg)
	}
}
