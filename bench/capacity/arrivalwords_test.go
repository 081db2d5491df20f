package main

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/protocol"
	"earshot/stages"
	"earshot/stages/deepgram"
)

const (
	sentNs    = 1764201234567890123
	arrivalNs = 1764201234512345678
)

func TestStampWordArrival(t *testing.T) {
	word := string(appendStampWordArrival(nil, stampWord{SentNs: sentNs, ArrivalNs: arrivalNs}))
	td.Cmp(t, word, fmt.Sprintf("t%da%d", sentNs, arrivalNs))
	pre := string(appendStampWordArrival(nil, stampWord{SentNs: sentNs, ArrivalNs: arrivalNs, Preroll: true}))
	td.Cmp(t, pre, fmt.Sprintf("t%dp%d", sentNs, arrivalNs))
	td.Cmp(t, string(appendStampWordArrival(nil, stampWord{SentNs: sentNs})), fmt.Sprintf("t%d", sentNs))

	var sent []int64
	scanStampWords([]byte(word+". "+pre+"."), func(ns int64) { sent = append(sent, ns) })
	td.Cmp(t, sent, []int64{sentNs, sentNs}, "the send time's scan does not see the suffix")

	w, ok := lastStampWord([]byte(fmt.Sprintf("t%d. %s.", sentNs-1, pre)))
	td.CmpTrue(t, ok)
	td.Cmp(t, w, stampWord{SentNs: sentNs, ArrivalNs: arrivalNs, Preroll: true})
	w, ok = lastStampWord([]byte(fmt.Sprintf("t%da%d0", sentNs, arrivalNs)))
	td.CmpTrue(t, ok)
	td.Cmp(t, w, stampWord{SentNs: sentNs}, "20 digits: no suffix")
	_, ok = lastStampWord([]byte("no stamp"))
	td.CmpFalse(t, ok)
}

// The gateway's Deepgram provider takes the word with its suffix as one
// word, spanning the end of the audio received.
func TestArrivalWordParsesAsDeepgram(t *testing.T) {
	var p deepgram.Parser
	w := resultsWord{stampWord: stampWord{SentNs: sentNs, ArrivalNs: arrivalNs}, Start: 0, End: 48000}
	res, ok, err := p.Parse(appendResultsWord(nil, 16000, 48000, w, true, false))
	td.Require(t).CmpNoError(err)
	td.CmpTrue(t, ok)
	word := fmt.Sprintf("t%da%d", sentNs, arrivalNs)
	td.Cmp(t, res.Words, []stages.Word{{Word: word, Punctuated: word + ".", StartSec: 0, EndSec: 3, Confidence: 1}})
	td.Cmp(t, res.StartSec, 1.0)
	td.Cmp(t, res.DurationSec, 2.0)
}

func TestScanSegments(t *testing.T) {
	word := string(appendStampWordArrival(nil, stampWord{SentNs: sentNs, ArrivalNs: arrivalNs}))
	segs, err := json.Marshal([]protocol.Segment{
		{ID: "a", Text: fmt.Sprintf("t%d. %s.", sentNs-5, word), Speaker: "SPEAKER_0", Start: 0, End: 2.1},
		{ID: "b", Text: "no stamp here", Start: 2.5, End: 3},
		{ID: "c", Text: word + ".", Start: 3, End: 4.02},
	})
	td.Require(t).CmpNoError(err)
	type seg struct {
		Text string
		End  float64
	}
	var got []seg
	scanSegments(segs, func(text []byte, end float64) { got = append(got, seg{string(text), end}) })
	td.Cmp(t, got, []seg{{fmt.Sprintf("t%d. %s.", sentNs-5, word), 2.1}, {"no stamp here", 3}, {word + ".", 4.02}})

	got = nil
	scanSegments([]byte(`[{"id":"x","text":"t1"}]`), func(text []byte, end float64) { got = append(got, seg{string(text), end}) })
	td.Cmp(t, got, td.Nil(), "no end")

	end, ok := resultsEnd(appendResultsWord(nil, 16000, 56000, resultsWord{stampWord: stampWord{SentNs: sentNs}, Start: 54400, End: 56000}, true, false))
	td.CmpTrue(t, ok)
	td.Cmp(t, end, 3.5, "start 1 s + duration 2.5 s, not the word's")
	_, ok = resultsEnd([]byte(`{"type":"Metadata"}`))
	td.CmpFalse(t, ok)
}

// Without stamps, the upstream takes the stream's first PrerollMs, and,
// after a Finalize, the first audio after a pause (as long as the pause,
// at most PrerollMs), for the gate's pre-roll, even when the hangover's
// audio came between the Finalize and the pause; a pause without a
// Finalize (a stall in speech) is no hold.
func TestUpstreamArrivalPreroll(t *testing.T) {
	u := newUpstream(upstreamConfig{PrerollMs: 300, ResultEvery: 1 << 30})
	s := &upStream{u: u}
	frame := make([]byte, 640) // 20 ms of decoded audio
	var now int64
	send := func(n int, gap int64) (pre []bool) {
		for i := range n {
			if i == 0 {
				now += gap
			}
			now += 20e6
			s.buf = frame
			s.audio(now)
			pre = append(pre, s.lastPre)
			td.Cmp(t, s.lastNs, now)
		}
		return pre
	}
	td.Cmp(t, send(17, 0), append(repeat(true, 15), false, false), "the stream's first 300 ms")
	td.Cmp(t, send(3, 500e6), repeat(false, 3), "a stall without a Finalize")
	s.finalized = true // as control does on a Finalize (which it answers)
	td.Cmp(t, send(3, 100e6), repeat(false, 3), "a Finalize, then a pause too short for a hold")
	td.Cmp(t, send(12, 200e6), append(repeat(true, 11), false), "the pause of 220 ms: what the gate held of it")
	s.finalized = true
	td.Cmp(t, send(20, 0), repeat(false, 20), "a Finalize in the hangover: its audio goes on")
	td.Cmp(t, send(16, 1500e6), append(repeat(true, 15), false), "then the hold: its pre-roll")
	td.Cmp(t, send(3, 1500e6), repeat(false, 3), "a pause with no Finalize since the last hold")
	td.Cmp(t, s.samples, int64(74*320))

	relay := &upStream{u: newUpstream(upstreamConfig{FrameSamples: 320})}
	relay.buf = make([]byte, 71) // an Opus packet
	relay.audio(1)
	td.Cmp(t, relay.samples, int64(320), "the relay's packets count their duration")
	td.CmpFalse(t, relay.lastPre)
}

func repeat(v bool, n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = v
	}
	return out
}
