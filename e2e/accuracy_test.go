//go:build pocketsphinx

package e2e_test

// The accuracy report of issue 4: word error rate on speech clips streamed
// through the gateway to the local recognizer, next to the same recognizer
// decoding the same files directly.
//
//	go test -tags pocketsphinx -run TestAccuracyThroughGateway -v -count=1 ./e2e/
//
// Subtests: synth (the repository's fixtures/speech-synth,
// testfix.SynthDir) and shared (the real-speech clips of
// ../shared/fixtures/speech or $EARSHOT_SPEECH_FIXTURES,
// testfix.SpeechDir); each is skipped when its folder is absent.
//
// Measured (2 cores): synth, 8 clips, 135 words: 39.3% direct, 39.3%
// through the gateway. shared, 12 clips, 103 words: 20.4% direct, 20.4%
// through the gateway. Those clips end less than PauseMs (500 ms) after
// their last word; their last words reach the client because the
// connector sends Finalize once the client's audio pauses
// (connector.Config.FinalizeIdleMs); without it they came only at
// CloseStream, after the client had left (100% WER through the gateway).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/maxatome/go-testdeep/td"

	streamclient "earshot/client"
	"earshot/internal/testfix"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/stages"
	"earshot/stages/ingest"
	"earshot/stages/local"
)

// Through the gateway.
const (
	// accuracyPace streams 20 times faster than real time: 100 ms frames
	// every 5 ms. The recognizer decodes in the connector's goroutine
	// (about 8× real time per core), so the gateway's channels and the
	// socket fill and push back on the client: nothing is dropped.
	accuracyPace = 20
	// accuracyWaitFinal: the client closes once this long passed after
	// its audio without a segment update, so a
	// backlog still being decoded keeps the session. The recognizer runs
	// no timers: an utterance still open when the audio stops (less than
	// its PauseMs of silence at the end) ends when the connector sends
	// Finalize, 1 s after the last audio (connector.Config.FinalizeIdleMs).
	accuracyWaitFinal = 5 * time.Second
)

// speechClip is one clip of a set: its reference, and its audio as the
// client sends it (mono linear16 at its own rate).
type speechClip struct {
	name, ref string
	rate      int
	pcm       []byte
}

func TestAccuracyThroughGateway(t *testing.T) {
	t.Run("synth", func(t *testing.T) {
		compareAccuracy(t, loadSpeechClips(t, testfix.SynthDir(t)))
	})
	t.Run("shared", func(t *testing.T) {
		compareAccuracy(t, loadSpeechClips(t, testfix.SpeechDir(t)))
	})
}

// clipScore is one clip's word errors: decoded directly, as the client
// saw it through the gateway, and in every final result the gateway got
// from the recognizer (upstream), with how many of those words came only
// after the connector's CloseStream.
type clipScore struct {
	direct, gateway, upstream streamclient.WERResult
	afterClose                int
}

// compareAccuracy decodes clips directly and through the gateway, each on
// a fresh provider with one decoder (every session starts from a freshly
// loaded decoder's state, so both decode each clip alike), logs the
// per-clip table and bounds the difference.
func compareAccuracy(t *testing.T, clips []speechClip) {
	scores := make([]clipScore, len(clips))
	directHyp := make([]string, len(clips))
	var audioS float64
	for _, c := range clips {
		audioS += float64(len(c.pcm)/2) / float64(c.rate)
	}

	start := time.Now()
	p := testfix.LocalProvider(t, local.Config{PoolSize: 1})
	for i, c := range clips {
		directHyp[i] = decodeDirect(t, p, c)
		scores[i].direct = streamclient.WER(c.ref, directHyp[i])
	}
	_ = p.Close()
	directTook := time.Since(start)

	start = time.Now()
	tap := &tapProvider{Provider: testfix.LocalProvider(t, local.Config{PoolSize: 1})}
	ended := make(chan pipeline.SessionSummary, 1)
	_, url := testrig.StartGatewayProvider(t, tap, pipeline.Config{}, pipeline.Deps{
		OnSessionEnd: func(s pipeline.SessionSummary) { ended <- s },
	})
	var notes []string
	for i, c := range clips {
		hyp, up, late, note := streamThroughGateway(t, url+"?language=en", tap, ended, c)
		scores[i].gateway = streamclient.WER(c.ref, hyp)
		scores[i].upstream = streamclient.WER(c.ref, up)
		scores[i].afterClose = late
		if note != "" {
			notes = append(notes, c.name+": "+note)
		}
		t.Logf("%s\n  ref:     %s\n  direct:  %s\n  gateway: %s", c.name, c.ref, directHyp[i], hyp)
	}
	gatewayTook := time.Since(start)

	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "clip\tref words\tdirect errors\tgateway errors\tupstream errors\twords after CloseStream\t")
	var d, g, u []streamclient.WERResult
	late := 0
	for i, c := range clips {
		s := scores[i]
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t\n", c.name, s.direct.RefWords, s.direct.Edits, s.gateway.Edits, s.upstream.Edits, s.afterClose)
		d, g, u = append(d, s.direct), append(g, s.gateway), append(u, s.upstream)
		late += s.afterClose
	}
	dt, gt, ut := streamclient.Combine(d...), streamclient.Combine(g...), streamclient.Combine(u...)
	fmt.Fprintf(w, "total (%d clips, %.1f s)\t%d\t%d\t%d\t%d\t%d\t\n", len(clips), audioS, dt.RefWords, dt.Edits, gt.Edits, ut.Edits, late)
	_ = w.Flush()
	t.Logf("word errors per clip (upstream: every final result the gateway got from the recognizer, seen by the client or not)\n%s", b.String())
	t.Logf("WER direct %.1f%% (%s), through the gateway %.1f%% (%s, pace %d×, wait-final %v), difference %+.1f points; upstream of the gateway %.1f%%",
		100*dt.Rate, directTook.Round(time.Millisecond), 100*gt.Rate, gatewayTook.Round(time.Millisecond),
		accuracyPace, accuracyWaitFinal, 100*(gt.Rate-dt.Rate), 100*ut.Rate)
	if len(notes) > 0 {
		t.Logf("notes:\n%s", strings.Join(notes, "\n"))
	}
	td.Cmp(t, gt.Rate, td.Lte(dt.Rate+0.01), "streaming through the gateway costs at most 1 point of WER")
}

// decodeDirect streams c through one stream of p in 100 ms frames, then
// CloseStream, and returns the words of every final result up to io.EOF
// (as stages/local's tests decode).
func decodeDirect(t *testing.T, p stages.Provider, c speechClip) string {
	t.Helper()
	require := td.Require(t)
	ctx := context.Background()
	s, err := p.Dial(ctx, stages.StreamConfig{SampleRateHz: c.rate, Channels: 1, Language: "en"})
	require.CmpNoError(err)
	defer func() { _ = s.Close() }()
	frame := c.rate / 10 * 2
	for off := 0; off < len(c.pcm); off += frame {
		require.CmpNoError(s.SendAudio(ctx, c.pcm[off:min(off+frame, len(c.pcm))]))
	}
	require.CmpNoError(s.SendControl(ctx, stages.ControlCloseStream))
	var words []string
	for {
		r, err := s.Recv(ctx)
		if errors.Is(err, io.EOF) {
			return strings.Join(words, " ")
		}
		require.CmpNoError(err)
		if r.IsFinal {
			for _, w := range r.Words {
				words = append(words, w.Word)
			}
		}
	}
}

// streamThroughGateway runs one podcast session of c with the stream
// client and waits for the gateway to end it. It returns the client's
// transcript, the words of every final result the gateway received from
// the recognizer in that session, how many of those came after the
// connector's CloseStream (when the client had already left), and a note
// on anything unusual.
func streamThroughGateway(t *testing.T, url string, tap *tapProvider, ended <-chan pipeline.SessionSummary, c speechClip) (hyp, up string, afterClose int, note string) {
	t.Helper()
	require := td.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := streamclient.Run(ctx, streamclient.Config{
		URL: url, Key: testrig.ClientKey, SampleRate: c.rate, Codec: "pcm16",
		Audio: c.pcm, Pace: accuracyPace, Mode: streamclient.ModePodcast,
		WaitFinal: accuracyWaitFinal, WaitFirst: 30 * time.Second, Ref: c.ref,
	})
	require.NotNil(rep, "report (err %v)", err)
	s := rep.Sessions[0]
	var notes []string
	if err != nil {
		// A session that got no segment (the recognizer heard nothing,
		// or its words came too late) fails the client's check; the WER
		// counts it.
		notes = append(notes, s.Failure)
		require.Cmp(s.Failure, "no segments although the audio sent had speech", "session failed: %v", err)
	}
	require.Cmp(s.CloseCode, 1000, "closed normally")
	var sum pipeline.SessionSummary
	select {
	case sum = <-ended:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: the gateway did not end the session", c.name)
	}
	streams := tap.take()
	require.Len(streams, 1, "one upstream stream per session (no reconnect)")
	st := streams[0]
	st.mu.Lock()
	defer st.mu.Unlock()

	// No audio lost anywhere: what the client sent is what the gateway
	// captured and what the recognizer got (frames under 3 bytes are not
	// audio: the app's ping answer).
	sent := len(c.pcm)
	if last := len(c.pcm) % (c.rate / 10 * 2); last > 0 && last < ingest.MinAudioFrameBytes {
		sent -= last
	}
	td.Cmp(t, s.AudioSentS, td.N(float64(len(c.pcm)/2)/float64(c.rate), 0.0015), "%s: the client sent it all", c.name)
	td.Cmp(t, sum.CaptureSeconds, td.N(float64(sent/2)/float64(c.rate), 1e-9), "%s: the gateway captured it all", c.name)
	td.Cmp(t, st.audioBytes, sent, "%s: the recognizer got every byte", c.name)
	td.Cmp(t, sum.LostSeconds, 0.0, "%s: no fault, nothing lost", c.name)
	td.Cmp(t, st.controls, td.Contains(stages.ControlCloseStream), "%s: the connector ended the stream", c.name)
	if len(st.closeWords) > 0 {
		notes = append(notes, fmt.Sprintf("the recognizer's last %d words came after CloseStream, when the client had left: %q",
			len(st.closeWords), strings.Join(st.closeWords, " ")))
	}
	return s.Transcript, strings.Join(st.words, " "), len(st.closeWords), strings.Join(notes, "; ")
}

// loadSpeechClips reads transcripts.tsv of dir (a header row, then file,
// reference text, ... separated by tabs) and every WAV it names, in order.
func loadSpeechClips(t *testing.T, dir string) []speechClip {
	t.Helper()
	require := td.Require(t)
	raw, err := os.ReadFile(filepath.Join(dir, "transcripts.tsv"))
	require.CmpNoError(err)
	var clips []speechClip
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Split(line, "\t")
		if i == 0 || len(f) < 2 {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, f[0]))
		require.CmpNoError(err)
		wav, err := streamclient.ParseWAV(b)
		require.CmpNoError(err, f[0])
		clips = append(clips, speechClip{name: f[0], ref: f[1], rate: wav.SampleRate, pcm: streamclient.Prepare(wav, wav.SampleRate)})
	}
	require.Gt(len(clips), 0, "clips in %s", dir)
	return clips
}

// tapProvider records what the gateway's sessions send to the recognizer
// and get back from it.
type tapProvider struct {
	stages.Provider
	mu      sync.Mutex
	streams []*tapStream
}

// Dial opens a recorded stream.
func (p *tapProvider) Dial(ctx context.Context, sc stages.StreamConfig) (stages.Stream, error) {
	s, err := p.Provider.Dial(ctx, sc)
	if err != nil {
		return nil, err
	}
	ts := &tapStream{Stream: s}
	p.mu.Lock()
	p.streams = append(p.streams, ts)
	p.mu.Unlock()
	return ts, nil
}

// take returns the streams opened since the last take.
func (p *tapProvider) take() []*tapStream {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.streams
	p.streams = nil
	return s
}

// tapStream is one recorded stream.
type tapStream struct {
	stages.Stream
	mu         sync.Mutex
	audioBytes int
	controls   []stages.Control
	words      []string // of every final result
	closeWords []string // of the final results received after CloseStream
}

func (s *tapStream) SendAudio(ctx context.Context, pcm []byte) error {
	s.mu.Lock()
	s.audioBytes += len(pcm)
	s.mu.Unlock()
	return s.Stream.SendAudio(ctx, pcm)
}

func (s *tapStream) SendControl(ctx context.Context, c stages.Control) error {
	s.mu.Lock()
	s.controls = append(s.controls, c)
	s.mu.Unlock()
	return s.Stream.SendControl(ctx, c)
}

func (s *tapStream) Recv(ctx context.Context) (stages.Result, error) {
	r, err := s.Stream.Recv(ctx)
	if err == nil && r.IsFinal {
		s.mu.Lock()
		closing := slices.Contains(s.controls, stages.ControlCloseStream)
		for _, w := range r.Words {
			s.words = append(s.words, w.Word)
			if closing {
				s.closeWords = append(s.closeWords, w.Word)
			}
		}
		s.mu.Unlock()
	}
	return r, err
}
