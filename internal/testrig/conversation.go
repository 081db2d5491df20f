package testrig

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	streamclient "earshot/client"
)

// ConversationRateHz is the sample rate of the audio Conversation16k
// joins and returns.
const ConversationRateHz = 16000

// Joined is a conversation made by Conversation16k.
type Joined struct {
	// PCM is mono 16-bit little-endian audio at ConversationRateHz.
	PCM []byte
	// Clips are where the clips lie in PCM, in order, as sample indices
	// [Start, End).
	Clips []Span
}

// Span is a stretch of audio, [Start, End) in samples.
type Span struct{ Start, End int }

// Seconds is the conversation's length.
func (j Joined) Seconds() float64 {
	return float64(len(j.PCM)/2) / ConversationRateHz
}

// SilenceFraction is the share of the conversation's time outside the
// clips (the pauses, lead and tail included), in [0, 1]: a lower bound
// of its silence, since the clips have silence of their own. 0 for an
// empty conversation.
func (j Joined) SilenceFraction() float64 {
	total := len(j.PCM) / 2
	if total == 0 {
		return 0
	}
	in := 0
	for _, c := range j.Clips {
		in += c.End - c.Start
	}
	return float64(total-in) / float64(total)
}

// Conversation16k joins clips (mono 16-bit little-endian PCM at
// ConversationRateHz; a trailing odd byte is ignored) into one
// conversation: a lead pause, the clips with a pause between each two,
// and a tail pause. Pause k (from 0, the lead; len(clips) is the tail)
// lasts pausesMs[k % len(pausesMs)] milliseconds (none when pausesMs is
// empty; negative counts as 0). White Gaussian noise with a standard
// deviation of noiseAmp (in 16-bit sample units: 30 is about -60 dBFS) is
// added to every sample, pauses and clips alike, clamped to the 16-bit
// range, so that the pauses sound like a quiet room rather than digital
// zero. The noise is a deterministic function of seed.
func Conversation16k(clips [][]byte, pausesMs []int, noiseAmp float64, seed uint64) Joined {
	pause := func(k int) int {
		if len(pausesMs) == 0 {
			return 0
		}
		return max(pausesMs[k%len(pausesMs)], 0) * ConversationRateHz / 1000
	}
	total := pause(len(clips))
	for i, c := range clips {
		total += pause(i) + len(c)/2
	}
	samples := make([]int16, 0, total)
	spans := make([]Span, 0, len(clips))
	for i, c := range clips {
		samples = append(samples, make([]int16, pause(i))...)
		start := len(samples)
		for k := 0; k+1 < len(c); k += 2 {
			samples = append(samples, int16(binary.LittleEndian.Uint16(c[k:])))
		}
		spans = append(spans, Span{Start: start, End: len(samples)})
	}
	samples = append(samples, make([]int16, pause(len(clips)))...)

	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pcm := make([]byte, 2*len(samples))
	for i, s := range samples {
		v := math.Round(float64(s) + noiseAmp*rng.NormFloat64())
		binary.LittleEndian.PutUint16(pcm[2*i:], uint16(int16(max(math.MinInt16, min(math.MaxInt16, v)))))
	}
	return Joined{PCM: pcm, Clips: spans}
}

// Clip is one speech clip of a fixtures folder at ConversationRateHz.
type Clip struct {
	// Name is the WAV's file name; Ref its reference text.
	Name, Ref string
	// RateHz is the WAV's own sample rate.
	RateHz int
	// PCM is its audio as mono 16-bit little-endian PCM at
	// ConversationRateHz (resampled with client.Prepare when RateHz
	// differs).
	PCM []byte
}

// Clips16k reads transcripts.tsv of dir (a header row, then file name,
// reference text, ... separated by tabs) and every WAV it names, in
// order, keeping those for which keep (nil keeps all) returns true, each
// prepared at ConversationRateHz. The test fails when the folder has
// none.
func Clips16k(tb testing.TB, dir string, keep func(Clip) bool) []Clip {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "transcripts.tsv"))
	if err != nil {
		tb.Fatal(err)
	}
	var clips []Clip
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Split(strings.TrimRight(line, "\r"), "\t")
		if i == 0 || len(f) < 2 {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, f[0]))
		if err != nil {
			tb.Fatal(err)
		}
		wav, err := streamclient.ParseWAV(b)
		if err != nil {
			tb.Fatalf("%s: %v", f[0], err)
		}
		c := Clip{Name: f[0], Ref: f[1], RateHz: wav.SampleRate}
		if keep != nil && !keep(c) {
			continue
		}
		c.PCM = streamclient.Prepare(wav, ConversationRateHz)
		clips = append(clips, c)
	}
	if len(clips) == 0 {
		tb.Fatalf("no clips in %s", dir)
	}
	return clips
}

// JoinClips is Conversation16k over clips, with their references joined
// by single spaces in the same order.
func JoinClips(clips []Clip, pausesMs []int, noiseAmp float64, seed uint64) (Joined, string) {
	pcms := make([][]byte, len(clips))
	refs := make([]string, len(clips))
	for i, c := range clips {
		pcms[i], refs[i] = c.PCM, c.Ref
	}
	return Conversation16k(pcms, pausesMs, noiseAmp, seed), strings.Join(refs, " ")
}
