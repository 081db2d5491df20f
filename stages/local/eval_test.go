//go:build pocketsphinx

package local_test

// Measurements behind the package's tuning, run on demand:
//
//	EARSHOT_LOCAL_EVAL=1 go test -tags pocketsphinx -run TestEval -v ./stages/local/
//
// Options: EVAL_8K=1 (clips taken down to 8 kHz), EVAL_GAP_MS (silence
// between clips in TestEvalPause), EVAL_CLIPS and EVAL_GRAMMAR (another
// folder with transcripts.tsv, and a JSGF grammar, for TestEvalResults).
// EARSHOT_MODEL_DIR picks the model folder (e.g. Debian's, unprimed).

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"earshot/client"
	"earshot/internal/testfix"
	"earshot/stages/local"
)

func evalClips(t *testing.T) []clip {
	t.Helper()
	if os.Getenv("EARSHOT_LOCAL_EVAL") == "" {
		t.Skip("set EARSHOT_LOCAL_EVAL=1 to run the measurements")
	}
	dir := testfix.SpeechDir(t)
	if d := os.Getenv("EVAL_CLIPS"); d != "" {
		dir = d
	}
	clips := loadClips(t, dir)
	if os.Getenv("EVAL_8K") != "" {
		for i := range clips {
			if clips[i].rate == 16000 {
				clips[i].pcm, clips[i].rate = downsample2(clips[i].pcm), 8000
			}
		}
	}
	return clips
}

// TestEvalResults prints every result of every clip (one reused decoder).
func TestEvalResults(t *testing.T) {
	clips := evalClips(t)
	p := testfix.LocalProvider(t, local.Config{PoolSize: 1, JSGFPath: os.Getenv("EVAL_GRAMMAR")})
	for _, c := range clips {
		var b strings.Builder
		for _, r := range decode(t, p, c.rate, c.pcm, frameBytes(c.rate, 100)) {
			fmt.Fprintf(&b, "  [%.2f+%.2f final=%v speech_final=%v from_finalize=%v]",
				r.StartSec, r.DurationSec, r.IsFinal, r.SpeechFinal, r.FromFinalize)
			for _, w := range r.Words {
				fmt.Fprintf(&b, " %s@%.2f-%.2f(%.2f)", w.Word, w.StartSec, w.EndSec, w.Confidence)
			}
			b.WriteString("\n")
		}
		t.Logf("%s %.2f s: %s\n%s", c.name, c.seconds(), c.ref, b.String())
	}
}

// TestEvalFresh compares a brand-new decoder per clip (the coldest start:
// what the primed cepstral mean is for) with one decoder reused for all.
func TestEvalFresh(t *testing.T) {
	clips := evalClips(t)
	source := func(name string) string {
		if strings.HasPrefix(name, "librivox") {
			return "librivox"
		}
		return "other"
	}
	for _, mode := range []string{"fresh", "reused"} {
		w := map[string]*werOf{"librivox": {}, "other": {}, "all": {}}
		var p *local.Provider
		var lines []string
		for _, c := range clips {
			if p == nil || mode == "fresh" {
				if p != nil {
					_ = p.Close()
				}
				p = testfix.LocalProvider(t, local.Config{PoolSize: 1})
			}
			hyp := transcript(decode(t, p, c.rate, c.pcm, frameBytes(c.rate, 100)))
			w[source(c.name)].add(c.ref, hyp)
			lines = append(lines, fmt.Sprintf("%s %s %s", c.name, pct(w["all"].add(c.ref, hyp)), hyp))
		}
		t.Logf("%s: all %s, librivox %s, other %s\n%s", mode, pct(w["all"].rate()),
			pct(w["librivox"].rate()), pct(w["other"].rate()), strings.Join(lines, "\n"))
	}
}

// TestEvalPause joins the clips into one stream, EVAL_GAP_MS of faint
// noise between them, and decodes it with several PauseMs.
func TestEvalPause(t *testing.T) {
	clips := evalClips(t)
	gapMs, _ := strconv.Atoi(os.Getenv("EVAL_GAP_MS"))
	rate := clips[0].rate
	rng := rand.New(rand.NewPCG(1, 2))
	var pcm []byte
	var refs []string
	for _, c := range clips {
		pcm = append(pcm, c.pcm...)
		for range rate / 1000 * gapMs {
			v := int16(rng.IntN(361) - 180) // about -50 dBFS, like the clips' own
			pcm = append(pcm, byte(v), byte(uint16(v)>>8))
		}
		refs = append(refs, c.ref)
	}
	ref := strings.Join(refs, " ")
	for _, pause := range []int{200, 300, 400, 500, 700, 1000, 10000} {
		p := testfix.LocalProvider(t, local.Config{PoolSize: 1, PauseMs: pause})
		rs := decode(t, p, rate, pcm, frameBytes(rate, 100))
		n := 0
		for _, r := range rs {
			if len(r.Words) > 0 {
				n++
			}
		}
		t.Logf("pause %5d ms: WER %s, %d results with words", pause, pct(client.WER(ref, transcript(rs)).Rate), n)
		_ = p.Close()
	}
}
