package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"earshot/internal/readall"
)

// upstreamConfig configures the stamp upstream.
type upstreamConfig struct {
	// Key, if set, is required as "Authorization: Token <Key>".
	Key string
	// PrerollFrames: after a gap in a stream's frame sequence (the VAD
	// gate dropped silence), the next PrerollFrames frames are the gate's
	// pre-roll, held back by design and sent together with the speech
	// onset; they are counted apart from the live frames.
	PrerollFrames int
	// ResultEvery is how many audio frames each final Results follows
	// (10: one a second of audio received).
	ResultEvery int
	// AckLagMs holds the finals' coverage this far behind the audio
	// received, so that the gateway's replay ring stays full (30 s or
	// more: a worst case for memory). 0 covers everything received.
	AckLagMs int
}

// upstream is the capacity run's speech-to-text upstream: just enough of
// Deepgram's live protocol for the gateway's Deepgram provider (Token
// auth, binary audio, KeepAlive, Finalize, CloseStream; final Results and
// Metadata), and no recognition. It runs as its own process so that its
// CPU is not the gateway's.
//
// Each stream reads with one goroutine into a reused buffer and takes the
// arrival time right after a frame is read; a frame's added latency is
// arrival minus the send time stamped into it by the load generator. Every
// ResultEvery frames it sends a final Results whose one word is its own
// send time (stampWord), for the result path's latency at the client.
//
// GET /report?from=NS&to=NS&wait_ms=MS waits (at most wait_ms) until no
// stream is open, then reports on the frames sent in [from, to).
type upstream struct {
	cfg     upstreamConfig
	opened  atomic.Int64
	active  atomic.Int64
	results atomic.Int64
	bytes   atomic.Int64
	frames  atomic.Int64 // binary messages, stamped or not

	mu   sync.Mutex
	recs []frameRec // from streams that ended
}

// frameRec is one stamped frame received.
type frameRec struct {
	SentNs  int64
	LatNs   int64
	Preroll bool
}

func newUpstream(cfg upstreamConfig) *upstream {
	if cfg.ResultEvery <= 0 {
		cfg.ResultEvery = 10
	}
	return &upstream{cfg: cfg}
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v1/listen":
		u.listen(w, r)
	case "/report":
		u.report(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (u *upstream) listen(w http.ResponseWriter, r *http.Request) {
	if u.cfg.Key != "" && r.Header.Get("Authorization") != "Token "+u.cfg.Key {
		w.Header().Set("dg-error", "Invalid credentials.")
		http.Error(w, `{"err_code":"INVALID_AUTH","err_msg":"Invalid credentials."}`, http.StatusUnauthorized)
		return
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	u.opened.Add(1)
	u.active.Add(1)
	s := &upStream{u: u, conn: c, buf: make([]byte, 0, frameBytes+64), out: make([]byte, 0, 1024)}
	s.run()
	u.bytes.Add(s.bytes)
	u.frames.Add(s.frames)
	u.mu.Lock()
	u.recs = append(u.recs, s.recs...)
	u.mu.Unlock()
	u.active.Add(-1)
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

// upStream is one stream, served by its handler goroutine alone.
type upStream struct {
	u    *upstream
	conn *websocket.Conn
	buf  []byte // the frame just read (reused)
	out  []byte // the message being written (reused)

	samples  int64 // received
	finalEnd int64 // samples the finals cover
	bytes    int64
	frames   int64
	since    int // frames since the last periodic Results
	started  bool
	lastSeq  uint32
	pre      int // pre-roll frames still expected after a gap
	recs     []frameRec
}

// run serves the stream until the client closes it or CloseStream.
func (s *upStream) run() {
	// A context without a Done channel: no per-call registration, and the
	// connection is torn down by closing it.
	ctx := context.Background()
	for {
		typ, r, err := s.conn.Reader(ctx)
		if err != nil {
			return
		}
		if s.buf, err = readall.Append(s.buf[:0], r); err != nil {
			return
		}
		now := time.Now().UnixNano()
		if typ == websocket.MessageBinary {
			s.audio(now)
			continue
		}
		if s.control() {
			return
		}
	}
}

// audio records a binary frame, and sends a Results every ResultEvery
// frames.
func (s *upStream) audio(now int64) {
	s.samples += int64(len(s.buf) / 2)
	s.bytes += int64(len(s.buf))
	s.frames++
	if st, ok := readStamp(s.buf); ok {
		if !s.started || st.Seq != s.lastSeq+1 {
			s.pre = s.u.cfg.PrerollFrames
		}
		pre := s.pre > 0
		if pre {
			s.pre--
		}
		s.started, s.lastSeq = true, st.Seq
		s.recs = append(s.recs, frameRec{SentNs: st.SentNs, LatNs: now - st.SentNs, Preroll: pre})
	}
	s.since++
	if s.since >= s.u.cfg.ResultEvery {
		s.since = 0
		s.final(true, true, false)
	}
}

// control handles a text frame and reports whether the stream is over.
func (s *upStream) control() bool {
	switch {
	case bytes.Contains(s.buf, []byte(`"CloseStream"`)):
		s.final(false, false, false)
		s.write(appendMetadata(s.out[:0], s.samples))
		_ = s.conn.Close(websocket.StatusNormalClosure, "")
		return true
	case bytes.Contains(s.buf, []byte(`"Finalize"`)):
		s.final(false, false, true)
	}
	return false // KeepAlive and anything else: nothing to answer
}

// final sends a final Results from the previous final's end to the audio
// received (less AckLagMs), with one stamp word when word is set.
func (s *upStream) final(word, speechFinal, fromFinalize bool) {
	end := max(s.finalEnd, s.samples-int64(s.u.cfg.AckLagMs)*sampleRate/1000)
	start := s.finalEnd
	s.finalEnd = end
	var ns int64
	if word {
		ns = time.Now().UnixNano()
	}
	s.write(appendResults(s.out[:0], start, end, s.samples, ns, speechFinal, fromFinalize))
	s.u.results.Add(1)
}

// write sends one text message; a failed write has closed the
// connection, so the next read ends the stream.
func (s *upStream) write(b []byte) {
	s.out = b
	_ = s.conn.Write(context.Background(), websocket.MessageText, b)
}

// appendResults appends a Deepgram final Results covering samples [start,
// end); with stampNs > 0 it holds one word, the stamp word of stampNs,
// spanning the last frame of the audio received (received samples).
func appendResults(b []byte, start, end, received, stampNs int64, speechFinal, fromFinalize bool) []byte {
	b = append(b, `{"type":"Results","channel_index":[0,1],"duration":`...)
	b = appendSec(b, end-start)
	b = append(b, `,"start":`...)
	b = appendSec(b, start)
	b = append(b, `,"is_final":true,"speech_final":`...)
	b = strconv.AppendBool(b, speechFinal)
	b = append(b, `,"from_finalize":`...)
	b = strconv.AppendBool(b, fromFinalize)
	b = append(b, `,"channel":{"alternatives":[{"transcript":"`...)
	if stampNs > 0 {
		b = appendStampWord(b, stampNs)
		b = append(b, `.","confidence":1,"words":[{"word":"`...)
		b = appendStampWord(b, stampNs)
		b = append(b, `","start":`...)
		b = appendSec(b, max(received-frameSamples, 0))
		b = append(b, `,"end":`...)
		b = appendSec(b, received)
		b = append(b, `,"confidence":1,"punctuated_word":"`...)
		b = appendStampWord(b, stampNs)
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
