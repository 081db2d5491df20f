package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/maxatome/go-testdeep/td"

	streamclient "earshot/client"
	"earshot/emulate"
	"earshot/internal/packets"
	"earshot/internal/testfix"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/stages/ingest"
	"earshot/stages/local"
)

// codecFixture is an entry of fixtures/codecs/manifest.json: packets made
// by a codec's reference encoder from one of the project's speech
// fixtures (scripts/make-codec-fixtures.sh).
type codecFixture struct {
	Name       string `json:"name"`
	Codec      string `json:"codec"`
	SampleRate int    `json:"sample_rate"`
	PacketMs   int    `json:"packet_ms"`
	Pkt        string `json:"pkt"`
	Source     string `json:"source"`
	Text       string `json:"text"`
}

const codecDir = "../fixtures/codecs"

// packetSamples is the audio of one packet of f at its rate.
func (f codecFixture) packetSamples() int {
	if f.Codec == string(ingest.CodecAAC) {
		return 1024 // one AAC-LC frame
	}
	return f.SampleRate * f.PacketMs / 1000
}

func loadCodecFixtures(t *testing.T) []codecFixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(codecDir, "manifest.json"))
	td.Require(t).CmpNoError(err)
	var fs []codecFixture
	td.Require(t).CmpNoError(json.Unmarshal(b, &fs))
	return fs
}

// sourcePCM is the fixture's source WAV as the client sends it raw.
func sourcePCM(t *testing.T, f codecFixture) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(codecDir, f.Source))
	td.Require(t).CmpNoError(err)
	w, err := streamclient.ParseWAV(b)
	td.Require(t).CmpNoError(err)
	return streamclient.Prepare(w, f.SampleRate)
}

// endToEndFixtures picks a fixture per variant: the demo conversation's
// where there is one, else the variant's first at its session rate.
func endToEndFixtures(all []codecFixture) []codecFixture {
	variant := func(f codecFixture) string { // the name without its source
		n := strings.TrimSuffix(f.Name, "-48k")
		return n[:max(strings.LastIndex(n, "-"), 0)]
	}
	demo := map[string]bool{}
	for _, f := range all {
		if strings.HasSuffix(f.Name, "-demo") {
			demo[variant(f)] = true
		}
	}
	var out []codecFixture
	seen := map[string]bool{}
	for _, f := range all {
		v := variant(f)
		switch {
		case f.Text == "" || seen[v] || strings.HasSuffix(f.Name, "-48k"):
		case demo[v] && !strings.HasSuffix(f.Name, "-demo"):
		default:
			seen[v] = true
			out = append(out, f)
		}
	}
	return out
}

// TestEveryCodecEndToEnd streams the reference encoders' packets of the
// demo conversation (26 s, two voices) and of a phone call, in every codec
// this build decodes, through `earshot stream`'s client into a gateway,
// whose upstream is the emulator (Deepgram's protocol over TCP) backed by
// the embedded recognizer; each transcript is scored against the
// reference text and must come within 10 points of WER of the same audio
// sent as raw PCM.
func TestEveryCodecEndToEnd(t *testing.T) {
	p := testfix.LocalProvider(t, local.Config{PoolSize: 1})
	_, dgURL := startEmulator(t, emulate.Config{Recognizer: emulate.FromProvider(p)})
	_, url := startGateway(t, dgURL, pipeline.Config{})

	run := func(t *testing.T, f codecFixture, codec string, pkts [][]byte) *streamclient.SessionResult {
		t.Helper()
		cfg := streamclient.Config{
			URL: url, Key: clientKey, Language: "en", SampleRate: f.SampleRate, Codec: codec,
			Audio: sourcePCM(t, f), Pace: 0, Mode: streamclient.ModePodcast, WaitFinal: 3 * time.Second, Ref: f.Text,
			// A loaded CI machine decodes the burst slowly: wait for the first
			// segment as long as it takes (CI once saw none within 3 s).
			WaitFirst: time.Minute,
		}
		if pkts != nil {
			cfg.Packets, cfg.PacketSamples = pkts, f.packetSamples()
		}
		waitIdle(t, p)
		rep, err := streamclient.Run(context.Background(), cfg)
		td.Require(t).NotNil(rep, "%s: %v", codec, err)
		td.Require(t).Len(rep.Sessions, 1)
		res := &rep.Sessions[0]
		td.Require(t).CmpNoError(err, "%s: %s (closed %d %q by %s; statuses %v)",
			codec, res.Failure, res.CloseCode, res.CloseReason, res.ClosedBy, res.Statuses)
		return res
	}

	var table strings.Builder
	w := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "fixture\tcodec\tpackets\tWER\traw PCM WER\t")
	baseline := map[string]float64{} // source → raw PCM WER
	for _, f := range endToEndFixtures(loadCodecFixtures(t)) {
		t.Run(f.Name, func(t *testing.T) {
			info, _ := ingest.Lookup(ingest.Codec(f.Codec))
			if !info.Available {
				t.Skipf("%s needs %s", f.Codec, info.Needs)
			}
			raw := "pcm16"
			if f.SampleRate == 8000 {
				raw = "pcm8"
			}
			base, ok := baseline[f.Source]
			if !ok {
				res := run(t, f, raw, nil)
				td.Require(t).NotNil(res.WER)
				base = res.WER.Rate
				baseline[f.Source] = base
			}
			b, err := os.ReadFile(filepath.Join(codecDir, f.Pkt))
			td.Require(t).CmpNoError(err)
			pkts, err := packets.Parse(b)
			td.Require(t).CmpNoError(err)
			res := run(t, f, f.Codec, pkts)
			td.Cmp(t, res.CloseCode, 1000, "closed normally: %s", res.CloseReason)
			td.Require(t).NotNil(res.WER)
			fmt.Fprintf(w, "%s\t%s\t%d\t%.1f%%\t%.1f%%\t\n", f.Name, f.Codec, len(pkts), 100*res.WER.Rate, 100*base)
			t.Logf("%s: %s", f.Name, res.Transcript)
			td.Cmp(t, res.WER.Rate, td.Lte(base+0.10), "within 10 points of raw PCM's WER")
			if info.PacketMs > 0 {
				td.Cmp(t, testrig.Metric(t, url, `earshot_decode_errors_total{codec="`+f.Codec+`"}`), 0.0)
			}
		})
	}
	_ = w.Flush()
	t.Logf("word error rates through the gateway, by codec\n%s", table.String())
}
