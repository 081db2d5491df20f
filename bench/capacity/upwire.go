package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// resultsWord is the one word of a periodic Results: its stamp (see
// stampWord) and its span, in samples of the stream.
type resultsWord struct {
	stampWord
	Start, End int64
}

// appendResults appends a Deepgram final Results covering samples [start,
// end); with stampNs > 0 it holds one word, the stamp word of stampNs
// (without an arrival suffix), spanning the last frame of the audio
// received (received samples).
func appendResults(b []byte, start, end, received, stampNs int64, speechFinal, fromFinalize bool) []byte {
	var w resultsWord
	if stampNs > 0 {
		w = resultsWord{stampWord: stampWord{SentNs: stampNs}, Start: max(received-frameSamples, 0), End: received}
	}
	return appendResultsWord(b, start, end, w, speechFinal, fromFinalize)
}

// appendResultsWord appends a Deepgram final Results covering samples
// [start, end) with w as its one word (appendStampWordArrival), or no word
// when w.SentNs is 0.
func appendResultsWord(b []byte, start, end int64, w resultsWord, speechFinal, fromFinalize bool) []byte {
	b = append(b, `{"type":"Results","channel_index":[0,1],"duration":`...)
	b = appendSec(b, end-start)
	b = append(b, `,"start":`...)
	b = appendSec(b, start)
	b = append(b, `,"is_final":true,"speech_final":`...)
	b = strconv.AppendBool(b, speechFinal)
	b = append(b, `,"from_finalize":`...)
	b = strconv.AppendBool(b, fromFinalize)
	b = append(b, `,"channel":{"alternatives":[{"transcript":"`...)
	if w.SentNs > 0 {
		b = appendStampWordArrival(b, w.stampWord)
		b = append(b, `.","confidence":1,"words":[{"word":"`...)
		b = appendStampWordArrival(b, w.stampWord)
		b = append(b, `","start":`...)
		b = appendSec(b, w.Start)
		b = append(b, `,"end":`...)
		b = appendSec(b, w.End)
		b = append(b, `,"confidence":1,"punctuated_word":"`...)
		b = appendStampWordArrival(b, w.stampWord)
		b = append(b, `.","speaker":0,"speaker_confidence":1}]}]}`...)
	} else {
		b = append(b, `","confidence":0,"words":[]}]}`...)
	}
	return append(b, `,"metadata":{"request_id":"capacity","model_info":{"name":"capacity"}}}`...)
}

// appendMetadata appends the Metadata sent before a close.
func appendMetadata(b []byte, samples int64) []byte {
	b = append(b, `{"type":"Metadata","transaction_key":"deprecated","request_id":"capacity","duration":`...)
	b = appendSec(b, samples)
	return append(b, `,"channels":1,"models":[],"model_info":{}}`...)
}

// appendSec appends samples as seconds.
func appendSec(b []byte, samples int64) []byte {
	return strconv.AppendFloat(b, float64(samples)/sampleRate, 'f', -1, 64)
}

// upstreamReport is what /report answers.
type upstreamReport struct {
	Streams    int64 `json:"streams"`
	StillOpen  int64 `json:"still_open"`
	Results    int64 `json:"results"`
	AudioBytes int64 `json:"audio_bytes"`
	// AudioFrames counts every binary message of every stream that ended,
	// whenever sent; Frames the stamped ones sent in [from, to).
	AudioFrames int64 `json:"audio_frames"`
	Frames      int   `json:"frames"`
	Preroll     int   `json:"preroll_frames"`
	Live        latency
	PrerollLate latency `json:"preroll"`
	// Over20BySecond counts the live frames over 20 ms by the second of
	// the window they were sent in: a tail made of a few bad moments
	// (a collection, a stall of the machine) shows as a few large counts.
	Over20BySecond []int `json:"over_20ms_by_second"`
}

func (u *upstream) report(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, _ := strconv.ParseInt(q.Get("from"), 10, 64)
	to, _ := strconv.ParseInt(q.Get("to"), 10, 64)
	waitMs, _ := strconv.Atoi(q.Get("wait_ms"))
	deadline := time.Now().Add(time.Duration(waitMs) * time.Millisecond)
	for u.active.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	u.mu.Lock()
	var live, pre []int64
	var bySec []int
	if to > from {
		bySec = make([]int, (to-from+1e9-1)/1e9)
	}
	for _, f := range u.recs {
		if f.SentNs < from || f.SentNs >= to {
			continue
		}
		if f.Preroll {
			pre = append(pre, f.LatNs)
			continue
		}
		live = append(live, f.LatNs)
		if f.LatNs > 20e6 {
			bySec[(f.SentNs-from)/1e9]++
		}
	}
	u.mu.Unlock()
	rep := upstreamReport{
		Streams: u.opened.Load(), StillOpen: u.active.Load(), Results: u.results.Load(),
		AudioBytes: u.bytes.Load(), AudioFrames: u.frames.Load(), Frames: len(live) + len(pre), Preroll: len(pre),
		Live: summarize(live), PrerollLate: summarize(pre), Over20BySecond: bySec,
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(rep)
}
