package emulate_test

import (
	"math"
	"regexp"
	"strconv"
	"testing"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/stages"
)

// timeLiteral finds every time of a server message as its JSON text.
var timeLiteral = regexp.MustCompile(`"(?:start|end|duration)":\s*([^,}\]]+)`)

// checkMsTimes checks that every time in raw is written as a whole number
// of milliseconds (at most three decimals, no exponent) and returns how
// many it found.
func checkMsTimes(t *testing.T, raw []byte) int {
	t.Helper()
	found := timeLiteral.FindAllSubmatch(raw, -1)
	for _, m := range found {
		td.Cmp(t, string(m[1]), td.Re(`^\d+(\.\d{1,3})?$`), "a time in %s", raw)
	}
	return len(found)
}

// ms is a time of a decoded message in whole milliseconds.
func ms(sec float64) int64 { return int64(math.Round(sec * 1000)) }

// TestTimesAreWholeMilliseconds: times with float noise (0.1+0.2), on a
// stream whose sample boundaries are no whole milliseconds (44.1 kHz), go
// out with at most three decimals; a word past the audio received is
// clamped into its Results.
func TestTimesAreWholeMilliseconds(t *testing.T) {
	tenth, fifth := 0.1, 0.2 // variables: constants would add exactly
	noisy := tenth + fifth   // 0.30000000000000004
	td.Require(t).Cmp(strconv.FormatFloat(noisy, 'g', -1, 64), "0.30000000000000004")
	rec := &scripted{batches: [][]stages.Word{{
		{Word: "a", StartSec: noisy, EndSec: noisy + 0.03, Confidence: 1},        // 0.33000000000000007
		{Word: "b", StartSec: 0.3304999, EndSec: 0.3305001, Confidence: 1},       // rounds to 0.33, 0.331
		{Word: "c", StartSec: 0.39, EndSec: 0.5, Confidence: 1},                  // ends after the audio
		{Word: "d", StartSec: 0.4000226757, EndSec: 0.4000226757, Confidence: 1}, // zero length, at the end
	}}}
	h := newHarness(t, emulate.Config{Recognizer: func(int) (emulate.Recognizer, error) { return rec, nil }})
	ctx := testCtx(t)
	c, _, err := h.dial(ctx, "encoding=linear16&sample_rate=44100&punctuate=true", "")
	td.Require(t).CmpNoError(err)
	defer c.CloseNow()
	sendAudio(t, ctx, c, make([]byte, 2*17641), 2*17641) // 0.40002267... s
	sendText(t, ctx, c, `{"type":"Finalize"}`)
	sendAudio(t, ctx, c, make([]byte, 2*1234), 2*1234) // to 0.42800453... s
	sendText(t, ctx, c, `{"type":"CloseStream"}`)
	msgs, err := readAll(t, ctx, c)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
	td.Require(t).Cmp(msgs, td.Len(4))

	td.Cmp(t, msgs[0].Raw, td.SuperJSONOf(`{"start": 0, "duration": 0.4, "channel": {"alternatives": [{
		"transcript": "a b c d", "confidence": 1, "words": [
		{"word": "a", "start": 0.3, "end": 0.33, "confidence": 1, "punctuated_word": "a"},
		{"word": "b", "start": 0.33, "end": 0.331, "confidence": 1, "punctuated_word": "b"},
		{"word": "c", "start": 0.39, "end": 0.4, "confidence": 1, "punctuated_word": "c"},
		{"word": "d", "start": 0.4, "end": 0.4, "confidence": 1, "punctuated_word": "d"}]}]}}`),
		"the final ends at the audio received (0.400023 s), and so does c")
	td.Cmp(t, msgs[1].Raw, td.SuperJSONOf(`{"start": 0.4, "duration": 0, "from_finalize": true}`),
		"Finalize with nothing new: 0.40002 s to 0.40002 s")
	td.Cmp(t, msgs[2].Raw, td.SuperJSONOf(`{"start": 0.4, "duration": 0.028}`), "to 0.428005 s")
	td.Cmp(t, msgs[3].Raw, td.SuperJSONOf(`{"type": "Metadata", "duration": 0.428}`))
	n := 0
	for _, m := range msgs {
		n += checkMsTimes(t, m.Raw)
	}
	td.Cmp(t, n, 2*3+2*4+1, "every time was checked")
}

// TestRoundedFinalsTile streams odd-sized frames at rates whose samples
// are no whole milliseconds, each heard as one word over the frame's
// audio: the rounded finals tile the stream exactly, in milliseconds, and
// every word lies inside its final with start ≤ end.
func TestRoundedFinalsTile(t *testing.T) {
	for _, rate := range []int{44100, 22050, 11025, 8000} {
		t.Run(strconv.Itoa(rate), func(t *testing.T) {
			const frames, frameSamples = 30, 997
			var batches [][]stages.Word
			for i := range frames {
				from, to := float64(i*frameSamples)/float64(rate), float64((i+1)*frameSamples)/float64(rate)
				batches = append(batches, []stages.Word{{Word: "w", StartSec: from + 1e-4, EndSec: to, Confidence: 1}})
			}
			rec := &scripted{batches: batches}
			h := newHarness(t, emulate.Config{Recognizer: func(int) (emulate.Recognizer, error) { return rec, nil }})
			ctx := testCtx(t)
			c, _, err := h.dial(ctx, "encoding=linear16&sample_rate="+strconv.Itoa(rate), "")
			td.Require(t).CmpNoError(err)
			defer c.CloseNow()
			sendAudio(t, ctx, c, make([]byte, 2*frames*frameSamples), 2*frameSamples)
			sendText(t, ctx, c, `{"type":"CloseStream"}`)
			msgs, err := readAll(t, ctx, c)
			td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
			td.Require(t).Cmp(msgs, td.Len(frames+2))

			var at int64
			for i, m := range msgs[:frames+1] {
				checkMsTimes(t, m.Raw)
				td.Cmp(t, ms(m.Start), at, "Results %d starts where the previous ended", i)
				end := ms(m.Start) + ms(m.Duration)
				for _, w := range m.words() {
					td.Cmp(t, ms(w.Start), td.Between(ms(m.Start), ms(w.End)), "Results %d: start in it, ≤ end", i)
					td.Cmp(t, ms(w.End), td.Lte(end), "Results %d: end in it", i)
				}
				at = end
			}
			total := int64(math.Round(float64(frames*frameSamples) * 1000 / float64(rate)))
			td.Cmp(t, at, total, "the finals cover the stream, to the millisecond")
			td.Cmp(t, ms(msgs[frames+1].Duration), total, "Metadata's duration")
			checkMsTimes(t, msgs[frames+1].Raw)
		})
	}
}
