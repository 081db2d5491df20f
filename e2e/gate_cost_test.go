//go:build pocketsphinx

package e2e_test

// Issue 5's cost against accuracy: the same conversations streamed
// through the gateway to the embedded recognizer with the VAD gate off,
// in shadow mode, and active with several hangovers.
//
//	go test -tags pocketsphinx -run TestGateCostVersusAccuracy -v -count=1 ./e2e/
//
// Subtests: synth (the repository's fixtures/speech-synth, 8 kHz clips
// resampled to 16 kHz) and shared (the real-speech clips of
// ../shared/fixtures/speech or $EARSHOT_SPEECH_FIXTURES, skipped when
// absent), each joined into one conversation by synthConversation's
// pauses under low noise.
//
// Measured (2 cores, 20× real time): synth, 117.3 s, 135 words: WER
// 31.9% off and in shadow mode; active with a hangover of 300, 700, 1500
// and 4000 ms sent 41, 46, 51 and 61% of the capture at 29.6, 31.9, 31.9
// and 31.9%. shared, 119.5 s, 103 words: 21.4% off; active sent 35, 39,
// 45 and 60% at 20.4, 21.4, 21.4 and 21.4%. No hangover lost a word the
// ungated run got right. Each configuration takes about 13 s, a subtest
// about 90 s (the same under -race).

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	streamclient "earshot/client"
	"earshot/internal/testfix"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/gate"
	"earshot/stages/local"
	"earshot/stages/silero"
)

// Streaming of the cost test: as accuracy_test.go's, 20 times faster
// than real time, and the client leaves only after 5 s without an update,
// so a backlog the recognizer is still decoding reaches it.
const (
	gateCostPace      = accuracyPace
	gateCostWaitFinal = accuracyWaitFinal
)

// gateCase is one gate configuration of the cost test.
type gateCase struct {
	name string
	cfg  gate.Config
}

// gateCases: off (the reference), shadow, and active with each hangover;
// other fields take their defaults.
func gateCases() []gateCase {
	cases := []gateCase{
		{"off", gate.Config{Mode: gate.Off}},
		{"shadow", gate.Config{Mode: gate.Shadow}},
	}
	for _, h := range []int{300, 700, 1500, 4000} {
		cases = append(cases, gateCase{fmt.Sprintf("active %d ms", h), gate.Config{Mode: gate.Active, HangoverMs: h}})
	}
	return cases
}

// gateCost is what one configuration gave on one conversation.
type gateCost struct {
	gatedRun
	wer        streamclient.WERResult
	hits       []bool // the reference words the client's transcript got right
	finalizes  int    // Finalize messages the recognizer got
	afterClose int    // words the recognizer gave after CloseStream
	// keepAlives1x is how many KeepAlives the connector would send if
	// the conversation were streamed in real time (gateKeepAlives).
	keepAlives1x int
}

func TestGateCostVersusAccuracy(t *testing.T) {
	m, err := silero.Load(testfix.VADModel(t))
	td.Require(t).CmpNoError(err)
	det := silero.Detectors(m)
	t.Run("synth", func(t *testing.T) {
		conv, ref := synthConversation(t)
		measureGateCost(t, det, conv, ref)
	})
	t.Run("shared", func(t *testing.T) {
		conv, ref := testrig.JoinClips(testrig.Clips16k(t, testfix.SpeechDir(t), nil), gatePausesMs, gateNoiseAmp, gateNoiseSeed)
		td.Require(t).Cmp(conv.SilenceFraction(), td.Gte(0.5), "a conversation is at least half silence")
		measureGateCost(t, det, conv, ref)
	})
}

// measureGateCost streams conv through a gateway per configuration, each
// on a fresh recognizer with one decoder (so every configuration starts
// from the same decoder state), logs the table and checks the default
// hangover against the ungated run.
func measureGateCost(t *testing.T, det stages.DetectorFactory, conv testrig.Joined, ref string) {
	cases := gateCases()
	costs := make([]gateCost, len(cases))
	for i, c := range cases {
		costs[i] = gateCostOf(t, det, c, conv, ref)
		t.Logf("%s: %s", c.name, costs[i].session.Transcript)
	}
	off := costs[0]

	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "gate\tWER %\tΔ points\twords lost\tgained\tcapture s\tsent s\tsent %\tspeech s\theld s\tkeepalives\tat 1×\tfinalizes\tafter CloseStream\twall s\t")
	for i, c := range cases {
		k := costs[i]
		lost, gained := 0, 0
		for j := range k.hits {
			switch {
			case off.hits[j] && !k.hits[j]:
				lost++
			case !off.hits[j] && k.hits[j]:
				gained++
			}
		}
		s := k.summary
		fmt.Fprintf(w, "%s\t%.1f\t%+.1f\t%d\t%d\t%.1f\t%.1f\t%.0f\t%.1f\t%.1f\t%d\t%d\t%d\t%d\t%.1f\t\n",
			c.name, 100*k.wer.Rate, 100*(k.wer.Rate-off.wer.Rate), lost, gained,
			s.CaptureSeconds, s.SentSeconds, 100*s.SentSeconds/s.CaptureSeconds, s.SpeechSeconds, s.HeldSeconds,
			s.KeepAlives, k.keepAlives1x, k.finalizes, k.afterClose, k.took.Seconds())
	}
	_ = w.Flush()
	t.Logf("%.1f s conversation, %d reference words, %.0f%% of the time outside the clips; pace %d×, wait-final %v\n"+
		"  words lost: reference words the ungated run got right and this one did not (gained: the reverse)\n"+
		"  keepalives: sent in this run (the connector's timer runs on wall time: any is during the client's wait-final)\n"+
		"  at 1×: the KeepAlives had it been streamed in real time\n"+
		"  finalizes: Finalize messages upstream (the gate's, one per speech end, and the connector's after the audio)\n%s",
		conv.Seconds(), off.wer.RefWords, 100*conv.SilenceFraction(), gateCostPace, gateCostWaitFinal, b.String())

	for i, c := range cases {
		if c.cfg.Mode != gate.Active || c.cfg.HangoverMs != gate.DefaultHangoverMs {
			continue
		}
		s := costs[i].summary
		td.Cmp(t, s.SentSeconds, td.Lte(0.6*s.CaptureSeconds), "%s (the default): at most 60%% of the capture sent", c.name)
		td.Cmp(t, costs[i].wer.Rate, td.Lte(off.wer.Rate+0.01), "%s (the default): at most 1 point of WER over the ungated run", c.name)
	}
}

// gateCostOf runs one session of conv through a gateway gated by c, on a
// fresh recognizer, and checks its accounting.
func gateCostOf(t *testing.T, det stages.DetectorFactory, c gateCase, conv testrig.Joined, ref string) gateCost {
	t.Helper()
	require := td.Require(t)
	p := testfix.LocalProvider(t, local.Config{PoolSize: 1})
	defer func() { _ = p.Close() }()
	tap := &tapProvider{Provider: p}
	ended := make(chan pipeline.SessionSummary, 1)
	_, url := testrig.StartGatewayProvider(t, tap, pipeline.Config{Gate: c.cfg}, pipeline.Deps{
		NewDetector:  det,
		OnSessionEnd: func(s pipeline.SessionSummary) { ended <- s },
	})
	r := streamConversation(t, url+"?language=en", ended, conv.PCM, ref, gateCostPace, gateCostWaitFinal)
	s := r.summary
	require.Cmp(s.Gate, c.cfg.Mode, c.name)
	require.Cmp(s.GateFailedOpen, false, c.name)
	td.Cmp(t, s.CaptureSeconds, td.N(conv.Seconds(), 1e-9), "%s: the gateway captured it all", c.name)
	td.Cmp(t, s.LostSeconds, 0.0, "%s: nothing lost", c.name)
	streams := tap.take()
	require.Len(streams, 1, "%s: one upstream stream (no reconnect)", c.name)
	st := streams[0]
	st.mu.Lock()
	defer st.mu.Unlock()
	td.Cmp(t, float64(st.audioBytes/2)/testrig.ConversationRateHz, td.N(s.SentSeconds, 1e-9),
		"%s: the recognizer got what the summary counts as sent", c.name)
	if c.cfg.Mode != gate.Active {
		td.Cmp(t, s.SentSeconds, td.N(s.CaptureSeconds, 1e-9), "%s: everything sent", c.name)
	}
	k := gateCost{
		gatedRun:   r,
		wer:        streamclient.WER(ref, r.session.Transcript),
		hits:       refHits(ref, r.session.Transcript),
		afterClose: len(st.closeWords),
	}
	for _, ctl := range st.controls {
		if ctl == stages.ControlFinalize {
			k.finalizes++
		}
	}
	var held float64
	k.keepAlives1x, held = gateKeepAlives(t, det, c.cfg, conv.PCM)
	td.Cmp(t, held, td.N(s.HeldSeconds, 1e-9), "%s: the gate run alone holds what the session held", c.name)
	return k
}

// gateKeepAlives runs a gate configured by cfg alone over pcm (16 kHz,
// in the client's 100 ms frames) and returns how many KeepAlives the
// connector would send upstream if pcm were streamed in real time: one
// after every stretch of connector.DefaultKeepAliveIdleMs without audio
// sent, from the session's start to its end; and the seconds the gate
// held (shadow: would hold).
func gateKeepAlives(t *testing.T, det stages.DetectorFactory, cfg gate.Config, pcm []byte) (int, float64) {
	t.Helper()
	const rate = testrig.ConversationRateHz
	g := gate.New(cfg, rate, gate.Deps{
		NewDetector: det, Metrics: gate.NewMetrics(metrics.NewSet()), Logger: testrig.Quiet(),
	})
	in, out := make(chan stages.Audio), make(chan stages.Audio, 64)
	done := make(chan error, 1)
	go func() { done <- g.Run(context.Background(), in, out) }()
	go func() {
		defer close(in)
		frame := int(streamclient.ChunkDuration.Seconds() * rate * 2)
		for off := 0; off < len(pcm); off += frame {
			in <- stages.Audio{PCM: pcm[off:min(off+frame, len(pcm))], Start: int64(off / 2), SampleRateHz: rate}
		}
	}()
	idle := int64(connector.DefaultKeepAliveIdleMs) * rate / 1000
	n, next := int64(0), int64(0)
	for a := range out {
		if a.Samples() > 0 {
			n += (a.Start - next) / idle
			next = a.End()
		}
	}
	n += (int64(len(pcm)/2) - next) / idle
	td.Require(t).CmpNoError(<-done)
	return int(n), stages.SamplesToSeconds(g.Stats().Held, rate)
}

// refHits reports, for each word of ref (client.Words), whether hyp gets
// it right: whether a minimum edit alignment of the two pairs it with an
// equal word. Among equally short alignments the one found by walking
// back from the ends, preferring a match, then a substitution, then a
// deletion, is used.
func refHits(ref, hyp string) []bool {
	r, h := streamclient.Words(ref), streamclient.Words(hyp)
	d := make([][]int, len(r)+1)
	for i := range d {
		d[i] = make([]int, len(h)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(r); i++ {
		for j := 1; j <= len(h); j++ {
			sub := d[i-1][j-1]
			if r[i-1] != h[j-1] {
				sub++
			}
			d[i][j] = min(sub, d[i-1][j]+1, d[i][j-1]+1)
		}
	}
	hits := make([]bool, len(r))
	for i, j := len(r), len(h); i > 0; {
		switch {
		case j > 0 && r[i-1] == h[j-1] && d[i][j] == d[i-1][j-1]:
			hits[i-1] = true
			i, j = i-1, j-1
		case j > 0 && d[i][j] == d[i-1][j-1]+1:
			i, j = i-1, j-1
		case d[i][j] == d[i-1][j]+1:
			i--
		default:
			j--
		}
	}
	return hits
}

// TestRefHits: the words a hypothesis gets right, by alignment.
func TestRefHits(t *testing.T) {
	td.Cmp(t, refHits("a b c d", "a x c d e"), []bool{true, false, true, true})
	td.Cmp(t, refHits("a b c", "b c"), []bool{false, true, true})
	td.Cmp(t, refHits("a b c", ""), []bool{false, false, false})
	td.Cmp(t, refHits("the cat the", "the the"), []bool{true, false, true})
	td.Cmp(t, refHits("", "a"), []bool{})
}
