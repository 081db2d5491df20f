//go:build pocketsphinx

package local_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/maxatome/go-testdeep/td"

	"earshot/client"
	"earshot/internal/testfix"
	"earshot/stages/local"
)

// clipOrder is a sequence of sessions, one clip each.
type clipOrder struct {
	name  string
	clips []clip
}

// clipScore is the word errors of one clip's session, and what it heard.
type clipScore struct {
	wer client.WERResult
	hyp string
}

// reuseOrders are the orders TestReusedMatchesFresh streams the clips in:
// the shared real-speech clips and the project's synthesized ones (8 and
// 16 kHz) interleaved, each folder as listed; that reversed; and a
// fixed-seed shuffle of it.
func reuseOrders(speech, synth []clip) []clipOrder {
	var listed []clip
	for i := range max(len(speech), len(synth)) {
		if i < len(speech) {
			listed = append(listed, speech[i])
		}
		if i < len(synth) {
			listed = append(listed, synth[i])
		}
	}
	reversed := slices.Clone(listed)
	slices.Reverse(reversed)
	shuffled := slices.Clone(listed)
	rand.New(rand.NewPCG(12, 34)).Shuffle(len(shuffled), func(i, j int) {
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	})
	return []clipOrder{{"listed", listed}, {"reversed", reversed}, {"shuffled", shuffled}}
}

// scoreClip streams c in 100 ms frames as one session of p and counts its
// word errors.
func scoreClip(t testing.TB, p *local.Provider, c clip) clipScore {
	t.Helper()
	hyp := transcript(decode(t, p, c.rate, c.pcm, frameBytes(c.rate, 100)))
	return clipScore{wer: client.WER(c.ref, hyp), hyp: hyp}
}

// TestReusedMatchesFresh: every session starts from the same decoder
// state, the primed one of a freshly loaded decoder, whichever sessions
// the decoder served before. The clips are streamed one session after
// another through one provider with a single decoder (so every session
// reuses it), in three orders of real and synthesized speech at 8 and
// 16 kHz, and each clip once on a freshly loaded provider; every clip
// must score the same on the reused decoder as on a fresh one, within one
// word. Run with -v for the tables.
func TestReusedMatchesFresh(t *testing.T) {
	speech := loadClips(t, testfix.SpeechDir(t))
	synth := loadClips(t, testfix.SynthDir(t))
	testfix.ModelDir(t) // skip here rather than in every subtest
	orders := reuseOrders(speech, synth)
	all := orders[0].clips

	// The sessions run in parallel subtests (each its own provider);
	// their results are read once the group is done.
	var fresh []clipScore                               // by index in all
	reused := make([]map[string]clipScore, len(orders)) // by clip name
	t.Run("decode", func(t *testing.T) {
		t.Run("fresh", func(t *testing.T) {
			t.Parallel()
			for _, c := range all {
				p := testfix.LocalProvider(t, local.Config{PoolSize: 1})
				fresh = append(fresh, scoreClip(t, p, c))
				_ = p.Close() // free its memory now
			}
		})
		for i, o := range orders {
			t.Run(o.name, func(t *testing.T) {
				t.Parallel()
				p := testfix.LocalProvider(t, local.Config{PoolSize: 1})
				scores := map[string]clipScore{}
				for _, c := range o.clips {
					scores[c.name] = scoreClip(t, p, c)
				}
				reused[i] = scores
			})
		}
	})
	td.Require(t).Len(fresh, len(all), "every clip decoded fresh")
	freshOf := map[string]clipScore{}
	for i, c := range all {
		freshOf[c.name] = fresh[i]
	}
	td.Require(t).Len(freshOf, len(all), "clip names are unique")

	for i, o := range orders {
		td.Require(t).Len(reused[i], len(all), "%s: every clip decoded", o.name)
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "clip\trate\twords\terrors fresh\terrors reused\t")
		var fs, rs []client.WERResult
		worst, worstClip, same := 0, "none", 0
		for _, c := range o.clips {
			f, r := freshOf[c.name], reused[i][c.name]
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", c.name, c.rate, f.wer.RefWords, f.wer.Edits, r.wer.Edits)
			fs, rs = append(fs, f.wer), append(rs, r.wer)
			if r.hyp == f.hyp {
				same++
			}
			if d := r.wer.Edits - f.wer.Edits; max(d, -d) > max(worst, -worst) {
				worst, worstClip = d, c.name
			}
			td.Cmp(t, r.wer.Edits, td.Between(f.wer.Edits-1, f.wer.Edits+1),
				"%s: %s has %d word errors on the reused decoder, %d on a fresh one", o.name, c.name, r.wer.Edits, f.wer.Edits)
		}
		_ = tw.Flush()
		f, r := client.Combine(fs...), client.Combine(rs...)
		t.Logf("order %s (%d clips, %d words):\n%swhole set: WER fresh %s (%d errors), reused %s (%d errors); "+
			"largest per-clip difference %+d (%s); the same transcript on %d of %d clips",
			o.name, len(o.clips), f.RefWords, b.String(), pct(f.Rate), f.Edits, pct(r.Rate), r.Edits, worst, worstClip, same, len(o.clips))
	}
}

// TestSessionStartsPrimed: a session on a decoder that served others
// before (at 8 and 16 kHz) hears exactly what it hears on a freshly
// loaded one: the same words at the same times. (Confidences may differ
// in the fifth decimal: pocketsphinx keeps some state between utterances
// that its API does not reach.) Without the reset of either the cepstral
// mean or the noise statistics, the words differ.
func TestSessionStartsPrimed(t *testing.T) {
	c := synthClip(t, "office-8k.wav")
	type timed struct {
		Word       string
		Start, End float64
	}
	heard := func(p *local.Provider) []timed {
		var out []timed
		for _, r := range decode(t, p, c.rate, c.pcm, frameBytes(c.rate, 100)) {
			for _, w := range r.Words {
				out = append(out, timed{w.Word, w.StartSec, w.EndSec})
			}
		}
		return out
	}
	fresh := heard(testfix.LocalProvider(t, local.Config{PoolSize: 1}))
	td.Require(t).Cmp(fresh, td.NotEmpty())

	p := testfix.LocalProvider(t, local.Config{PoolSize: 1})
	for _, name := range []string{"lights-16k.wav", "call-8k.wav"} {
		before := synthClip(t, name)
		decode(t, p, before.rate, before.pcm, frameBytes(before.rate, 100))
	}
	td.Cmp(t, heard(p), fresh)
}
