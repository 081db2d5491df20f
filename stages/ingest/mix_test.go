package ingest_test

import (
	"encoding/binary"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/ingest"
)

// The mixer tests run at 1 kHz, so that a millisecond is a sample.
const mixRate = 1000

// pcmOf encodes samples as 16-bit little-endian PCM.
func pcmOf(samples ...int16) []byte {
	b := make([]byte, 2*len(samples))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return b
}

// level returns n samples of value v.
func level(v int16, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// counting returns n samples counting up from first.
func counting(first, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(first + i)
	}
	return s
}

// audioAt is mixRate audio of samples at capture index start.
func audioAt(start int64, samples ...int16) stages.Audio {
	return stages.Audio{PCM: pcmOf(samples...), Start: start, SampleRateHz: mixRate}
}

// mixTaker takes from a Mixer, checking that every Take follows on the
// last.
type mixTaker struct {
	m    *ingest.Mixer
	next int64
}

func (k *mixTaker) check(t *testing.T, a stages.Audio) []int16 {
	t.Helper()
	td.Cmp(t, a.Start, k.next, "contiguous with the last Take")
	td.Cmp(t, a.SampleRateHz, mixRate)
	k.next = a.End()
	return append([]int16{}, samplesOf([]stages.Audio{a})...)
}

func (k *mixTaker) take(t *testing.T) []int16 {
	t.Helper()
	return k.check(t, k.m.Take())
}

func (k *mixTaker) flush(t *testing.T) []int16 {
	t.Helper()
	return k.check(t, k.m.Flush())
}

func TestMixerSumsChannelsExactly(t *testing.T) {
	m := ingest.NewMixer(2, mixRate, 100)
	k := &mixTaker{m: m}
	m.Add(0, audioAt(0, 100, 200, 300, -400, 5))
	td.Cmp(t, k.m.Take(), stages.Audio{Start: 0, SampleRateHz: mixRate}, "nothing complete: the other channel gave nothing yet")
	m.Add(1, audioAt(0, 1, 2, 3))
	td.Cmp(t, k.take(t), []int16{101, 202, 303})
	m.Add(1, audioAt(3, 4, -5, 6))
	td.Cmp(t, k.take(t), []int16{-396, 0})
	td.Cmp(t, k.take(t), []int16{}, "nothing more complete")
	td.Cmp(t, k.flush(t), []int16{6}, "flush: the missing sample of channel 0 is silence")
	td.Cmp(t, m.LateSamples(), int64(0))
}

func TestMixerClamps(t *testing.T) {
	m := ingest.NewMixer(3, mixRate, 0)
	k := &mixTaker{m: m}
	m.Add(0, audioAt(0, 30000, -30000, 32767, -32768, 30000))
	m.Add(1, audioAt(0, 10000, -10000, 32767, -32768, 10000))
	m.Add(2, audioAt(0, 0, 0, 0, 0, -10000))
	td.Cmp(t, k.take(t), []int16{32767, -32768, 32767, -32768, 30000}, "clamped sum, not a clamp at each addition")
}

func TestMixerAddCopies(t *testing.T) {
	m := ingest.NewMixer(2, mixRate, 0)
	k := &mixTaker{m: m}
	a := audioAt(0, 1, 2, 3)
	m.Add(0, a)
	copy(a.PCM, pcmOf(9, 9, 9)) // the caller reuses its buffer
	m.Add(1, audioAt(0, 10, 20, 30))
	td.Cmp(t, k.take(t), []int16{11, 22, 33})
}

func TestMixerGapIsSilence(t *testing.T) {
	m := ingest.NewMixer(2, mixRate, 0)
	k := &mixTaker{m: m}
	m.Add(0, audioAt(0, counting(100, 8)...))
	m.Add(1, audioAt(0, 1, 1))
	td.Cmp(t, k.take(t), []int16{101, 102})
	m.Add(1, audioAt(5, 1, 1, 1)) // 2 to 5 held back
	td.Cmp(t, k.take(t), []int16{102, 103, 104, 106, 107, 108})
	m.Add(1, audioAt(3, 7, 7, 7, 7, 7, 7)) // overlaps the gap and what followed it
	td.Cmp(t, k.flush(t), []int16{7}, "only the sample past what channel 1 gave")
	td.Cmp(t, m.LateSamples(), int64(0), "overlap is not late")
}

func TestMixerOverlapIgnored(t *testing.T) {
	m := ingest.NewMixer(2, mixRate, 0)
	k := &mixTaker{m: m}
	m.Add(0, audioAt(0, 1, 2, 3, 4))
	m.Add(0, audioAt(2, 100, 100, 5, 6)) // 2 and 3 again, then 4 and 5
	m.Add(0, audioAt(1, 100))            // all given already
	m.Add(1, audioAt(0, level(0, 6)...))
	td.Cmp(t, k.take(t), []int16{1, 2, 3, 4, 5, 6})
}

// TestMixerLaggingChannel: a channel that stops holds the mix back for
// maxLagMs, then is taken as silence and the mix keeps coming; what it
// delivers late for the stretch passed is dropped and counted; its
// buffered audio, and the other's, never grows past about maxLagMs.
func TestMixerLaggingChannel(t *testing.T) {
	const lag = 100 // ms, samples at mixRate
	m := ingest.NewMixer(2, mixRate, lag)
	k := &mixTaker{m: m}
	var mixed []int16
	for i := range 3 { // both channels, 10 ms frames
		m.Add(0, audioAt(int64(10*i), level(1, 10)...))
		m.Add(1, audioAt(int64(10*i), level(2, 10)...))
		mixed = append(mixed, k.take(t)...)
	}
	td.Cmp(t, mixed, level(3, 30))

	// Channel 1 stops at 30: the mix waits for it until channel 0 is
	// 100 ms ahead, then follows channel 0 at 100 ms.
	for i := 3; i < 13; i++ {
		m.Add(0, audioAt(int64(10*i), level(1, 10)...))
		td.Cmp(t, k.take(t), []int16{}, "waiting at %d", 10*(i+1))
	}
	for i := 13; i < 50; i++ {
		m.Add(0, audioAt(int64(10*i), level(1, 10)...))
		td.Cmp(t, k.take(t), level(1, 10), "channel 1 is silence, 100 ms behind channel 0 (at %d)", 10*(i+1))
		td.Cmp(t, m.Buffered(0), int64(lag))
		td.Cmp(t, m.Buffered(1), int64(0))
	}
	td.Cmp(t, k.next, int64(400))

	// Channel 1 comes back, from 380: the mix took it as silence up to
	// 400, so 380 to 400 is late; 400 to 430 is still ahead of the mix.
	m.Add(1, audioAt(380, level(2, 50)...))
	td.Cmp(t, m.LateSamples(), int64(20))
	td.Cmp(t, m.Buffered(1), int64(30))
	m.Add(1, audioAt(410, level(2, 30)...)) // 410 to 430 overlaps, 430 to 440 is new
	td.Cmp(t, m.LateSamples(), int64(20), "overlap is not late")
	td.Cmp(t, m.Buffered(1), int64(40))
	m.Add(0, audioAt(500, level(1, 10)...))
	td.Cmp(t, k.take(t), level(3, 40), "the mix waits for channel 1 again: it is not 100 ms behind")
	td.Cmp(t, m.Buffered(0), int64(70))
	td.Cmp(t, m.Buffered(1), int64(0))

	// Channel 1 falls behind again and delivers audio the mix passed.
	m.Add(0, audioAt(510, level(1, 90)...))
	td.Cmp(t, k.take(t), level(1, 60), "440 to 500: 100 ms behind channel 0")
	m.Add(1, audioAt(440, level(2, 100)...)) // 440 to 500 passed
	td.Cmp(t, m.LateSamples(), int64(80))
	td.Cmp(t, m.Buffered(1), int64(40))
	td.Cmp(t, k.flush(t), append(level(3, 40), level(1, 60)...))
	td.Cmp(t, k.next, int64(600))
	m.Add(1, audioAt(540, level(2, 100)...)) // 540 to 600 passed, by Flush
	td.Cmp(t, m.LateSamples(), int64(140))
	td.Cmp(t, m.Buffered(1), int64(40))
}

// TestMixerChannelThatNeverSends: the other channel's audio flows after
// maxLagMs (the default, 1000 ms), and is never buffered beyond it.
func TestMixerChannelThatNeverSends(t *testing.T) {
	m := ingest.NewMixer(2, 16000, 0)
	var taken int64
	frame := make([]byte, 3200) // 100 ms at 16 kHz
	for i := range 100 {
		m.Add(0, stages.Audio{PCM: frame, Start: int64(1600 * i), SampleRateHz: 16000})
		a := m.Take()
		td.Cmp(t, a.Start, taken)
		taken = a.End()
		td.Cmp(t, m.Buffered(0), min(int64(1600*(i+1)), 16000), "at most 1000 ms held")
		td.Cmp(t, m.Buffered(1), int64(0))
	}
	td.Cmp(t, taken, int64(1600*100-16000))
	a := m.Flush()
	td.Cmp(t, a.Start, taken)
	td.Cmp(t, a.End(), int64(1600*100))
	td.Cmp(t, m.Buffered(0), int64(0))
}

func TestMixerFlushGivesTheRest(t *testing.T) {
	m := ingest.NewMixer(3, mixRate, 1000)
	k := &mixTaker{m: m}
	m.Add(0, audioAt(0, 1, 1, 1, 1, 1, 1))
	m.Add(1, audioAt(2, 10, 10))
	m.Add(2, audioAt(0, 100))
	td.Cmp(t, k.take(t), []int16{101})
	td.Cmp(t, k.flush(t), []int16{1, 11, 11, 1, 1})
	td.Cmp(t, k.flush(t), []int16{}, "nothing left")
	for ch := range 3 {
		td.Cmp(t, m.Buffered(ch), int64(0))
	}
}

func TestMixerIgnoresEmptyAndHalfSamples(t *testing.T) {
	m := ingest.NewMixer(1, mixRate, 0)
	k := &mixTaker{m: m}
	m.Add(0, stages.Audio{Start: 40, Mark: stages.MarkHold, SampleRateHz: mixRate})
	td.Cmp(t, k.take(t), []int16{}, "a hold gives no audio and no gap")
	m.Add(0, stages.Audio{PCM: append(pcmOf(5, 6), 0x7f), Start: 0, SampleRateHz: mixRate})
	td.Cmp(t, k.take(t), []int16{5, 6})
}

func TestMixerPanicsOnBadConfig(t *testing.T) {
	td.CmpPanic(t, func() { ingest.NewMixer(0, mixRate, 0) }, td.Contains("0 channels"))
	td.CmpPanic(t, func() { ingest.NewMixer(1, 0, 0) }, td.Contains("0 Hz"))
}
