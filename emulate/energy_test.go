package emulate_test

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/stages"
)

// wave builds audio at any rate from runs of a square wave (amplitude 0 is
// silence); a square wave of amplitude a has RMS a and peak a exactly.
type wave struct {
	rate int
	ms   int // length so far; runs end on the sample nearest below it
	pcm  []byte
}

func (w *wave) run(ms, amp int) *wave {
	w.ms += ms
	n := w.ms*w.rate/1000 - len(w.pcm)/2
	for i := range n {
		v := int16(amp)
		if i%2 == 1 {
			v = -v
		}
		w.pcm = binary.LittleEndian.AppendUint16(w.pcm, uint16(v))
	}
	return w
}

// newEnergy is EnergyTest's recognizer at rate.
func newEnergy(t *testing.T, rate int) emulate.Recognizer {
	t.Helper()
	r, err := emulate.EnergyTest(rate)
	td.Require(t).CmpNoError(err)
	return r
}

// feed passes pcm to r in chunks of chunk bytes (rounded down to whole
// samples, at least one), then flushes, and returns every word.
func feed(r emulate.Recognizer, pcm []byte, chunk int) []stages.Word {
	chunk = max(chunk&^1, 2)
	var words []stages.Word
	for len(pcm) > 0 {
		n := min(chunk, len(pcm))
		words = append(words, r.Accept(pcm[:n])...)
		pcm = pcm[n:]
	}
	return append(words, r.Flush()...)
}

func word(name string, start, end float64, speaker int) stages.Word {
	return stages.Word{Word: name, Punctuated: name, StartSec: start, EndSec: end, Speaker: speaker, Confidence: 1}
}

func TestEnergyBurstsAcrossChunks(t *testing.T) {
	w := (&wave{rate: testRate}).
		run(500, 0).run(300, 8000).  // t500, speaker 0
		run(700, 0).run(400, 20000). // t1500, speaker 1
		run(250, 0).run(120, 5000).  // t2150, ends by Flush
		run(50, 0)
	want := []stages.Word{
		word("t500", 0.5, 0.8, 0),
		word("t1500", 1.5, 1.9, 1),
		word("t2150", 2.15, 2.27, 0),
	}
	for _, chunk := range []int{2, 6, 320, 322, 3200, 3202, 17777, len(w.pcm)} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			td.Cmp(t, feed(newEnergy(t, testRate), w.pcm, chunk), want)
		})
	}
}

func TestEnergyWordsCompleteAfterGap(t *testing.T) {
	r := newEnergy(t, testRate)
	td.CmpEmpty(t, r.Accept((&wave{rate: testRate}).run(100, 0).run(100, 4000).run(190, 0).pcm),
		"190 ms of quiet do not end a burst")
	td.Cmp(t, r.Accept((&wave{rate: testRate}).run(10, 0).pcm),
		[]stages.Word{word("t100", 0.1, 0.2, 0)}, "the 200th ms of quiet ends it")
	td.CmpEmpty(t, r.Flush())
}

func TestEnergyGapMergesBursts(t *testing.T) {
	merged := (&wave{rate: testRate}).run(100, 4000).run(190, 0).run(100, 4000).run(300, 0)
	td.Cmp(t, feed(newEnergy(t, testRate), merged.pcm, 640),
		[]stages.Word{word("t0", 0, 0.39, 0)})
	split := (&wave{rate: testRate}).run(100, 4000).run(200, 0).run(100, 4000).run(300, 0)
	td.Cmp(t, feed(newEnergy(t, testRate), split.pcm, 640),
		[]stages.Word{word("t0", 0, 0.1, 0), word("t300", 0.3, 0.4, 0)})
}

func TestEnergyThresholds(t *testing.T) {
	for _, tc := range []struct {
		amp   int
		words []stages.Word
	}{
		{amp: 1000, words: nil}, // RMS must be above 1000
		{amp: 1001, words: []stages.Word{word("t0", 0, 0.1, 0)}},
		{amp: 16000, words: []stages.Word{word("t0", 0, 0.1, 0)}}, // peak must be above 16000
		{amp: 16001, words: []stages.Word{word("t0", 0, 0.1, 1)}},
		{amp: 32767, words: []stages.Word{word("t0", 0, 0.1, 1)}},
	} {
		w := (&wave{rate: testRate}).run(100, tc.amp).run(300, 0)
		td.Cmp(t, feed(newEnergy(t, testRate), w.pcm, 320), td.Smuggle(nilIfEmpty, tc.words), "amplitude %d", tc.amp)
	}
}

func nilIfEmpty(w []stages.Word) []stages.Word {
	if len(w) == 0 {
		return nil
	}
	return w
}

func TestEnergySpeakerIsBurstPeak(t *testing.T) {
	// A quiet start and a loud end: the peak over the whole burst counts.
	w := (&wave{rate: testRate}).run(100, 3000).run(50, 20000).run(300, 0)
	td.Cmp(t, feed(newEnergy(t, testRate), w.pcm, 4000), []stages.Word{word("t0", 0, 0.15, 1)})
}

func TestEnergyFlush(t *testing.T) {
	r := newEnergy(t, testRate)
	td.CmpNil(t, r.Flush(), "nothing open")
	td.CmpEmpty(t, r.Accept((&wave{rate: testRate}).run(200, 0).run(300, 4000).pcm))
	td.Cmp(t, r.Flush(), []stages.Word{word("t200", 0.2, 0.5, 0)})
	td.CmpNil(t, r.Flush(), "flushed once")
	// The tone goes on after the flush: a new word starts at the next frame.
	td.CmpEmpty(t, r.Accept((&wave{rate: testRate}).run(100, 4000).pcm))
	td.Cmp(t, r.Flush(), []stages.Word{word("t500", 0.5, 0.6, 0)})
}

func TestEnergyPartialFrameWaits(t *testing.T) {
	r := newEnergy(t, testRate)
	// 5 ms of tone: half a frame, not judged yet, so Flush has nothing.
	td.CmpEmpty(t, r.Accept((&wave{rate: testRate}).run(5, 4000).pcm))
	td.CmpNil(t, r.Flush())
	td.CmpEmpty(t, r.Accept((&wave{rate: testRate}).run(5, 4000).pcm))
	td.Cmp(t, r.Flush(), []stages.Word{word("t0", 0, 0.01, 0)})
}

func TestEnergyOddRates(t *testing.T) {
	// 22050 and 44100 Hz frames are not whole samples: the grid is still
	// exact (frame k starts at sample k·rate/100).
	for _, rate := range []int{8000, 22050, 44100, 48000} {
		w := (&wave{rate: rate}).run(1000, 0).run(250, 9000).run(400, 0).run(1230, 0).run(70, 17000).run(300, 0)
		td.Cmp(t, feed(newEnergy(t, rate), w.pcm, 999),
			[]stages.Word{word("t1000", 1, 1.25, 0), word("t2880", 2.88, 2.95, 1)}, "rate %d", rate)
	}
}
