package main

import (
	"bytes"
	"context"
	"net/http"
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
	// PrerollMs (the gate's pre-roll, gate on; 0 otherwise) classifies
	// frames without a stamp for the arrival word: the stream's first
	// PrerollMs of audio, and, after a Finalize, the first audio after a
	// pause of more than holdGapMs (as much of it as the pause was long,
	// at most PrerollMs), are the gate's pre-roll. The connector asks for
	// a Finalize in the gate's hangover or when it starts holding audio
	// back, and the hangover's audio may follow the Finalize: the
	// Finalize counts until a pause comes. A stall while speech goes on,
	// with no Finalize before it, is not taken for a hold.
	PrerollMs int
	// FrameSamples, when set, is what each binary message counts for in
	// the stream's time (the relay forwarding a device codec's packets);
	// 0 counts its bytes as 16-bit samples (PCM, which the gateway sends).
	FrameSamples int
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
// send time (stampWord), for the result path's latency at the client,
// followed by the arrival time of the last frame received, for the frame
// path's at the client when frames carry no stamp (see arrival.go). The
// stream's first word starts at the stream's time 0, so that the
// gateway's conversation origin (its first word's start) is where the
// stream's audio starts on the capture clock: 0 with the gate off.
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

	// For the arrival word: the last frame's arrival and whether it was
	// pre-roll; whether audio came, a Finalize since the last audio, the
	// end of the pre-roll (unstamped frames, PrerollMs), and whether the
	// stream's first word was sent.
	lastNs    int64
	lastPre   bool
	heard     bool
	finalized bool
	preEnd    int64
	worded    bool
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
	n := int64(len(s.buf) / 2)
	if s.u.cfg.FrameSamples > 0 {
		n = int64(s.u.cfg.FrameSamples)
	}
	s.lastPre = s.arrivalPreroll(s.samples, now)
	s.lastNs = now
	s.samples += n
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
		s.started, s.lastSeq, s.lastPre = true, st.Seq, pre
		s.recs = append(s.recs, frameRec{SentNs: st.SentNs, LatNs: now - st.SentNs, Preroll: pre})
	}
	s.since++
	if s.since >= s.u.cfg.ResultEvery {
		s.since = 0
		s.final(true, true, false)
	}
}

// arrivalPreroll reports whether a frame starting at sample at of the
// stream, arriving at now, is the gate's pre-roll by the PrerollMs rule
// (see upstreamConfig); a stamped frame's sequence overrides it.
func (s *upStream) arrivalPreroll(at, now int64) bool {
	ms := int64(s.u.cfg.PrerollMs)
	if ms <= 0 {
		return false
	}
	gapMs := (now - s.lastNs) / 1e6
	switch {
	case !s.heard:
		s.preEnd = at + ms*sampleRate/1000
	case s.finalized && gapMs > holdGapMs:
		// The gate held the audio back for about the gap, and sends what
		// it held (at most PrerollMs) first.
		s.preEnd = at + min(gapMs, ms)*sampleRate/1000
		s.finalized = false
	}
	s.heard = true
	return at < s.preEnd
}

// holdGapMs: a pause in the audio longer than this after a Finalize is
// taken for the gate holding audio back (frames come every 10–100 ms
// while it sends).
const holdGapMs = 150

// control handles a text frame and reports whether the stream is over.
func (s *upStream) control() bool {
	switch {
	case bytes.Contains(s.buf, []byte(`"CloseStream"`)):
		s.final(false, false, false)
		s.write(appendMetadata(s.out[:0], s.samples))
		_ = s.conn.Close(websocket.StatusNormalClosure, "")
		return true
	case bytes.Contains(s.buf, []byte(`"Finalize"`)):
		s.finalized = true
		s.final(false, false, true)
	}
	return false // KeepAlive and anything else: nothing to answer
}

// final sends a final Results from the previous final's end to the audio
// received (less AckLagMs), with one stamp word when word is set: the
// send time and the last frame's arrival, spanning the last 100 ms of the
// audio received (the stream's first word: all of it from 0).
func (s *upStream) final(word, speechFinal, fromFinalize bool) {
	end := max(s.finalEnd, s.samples-int64(s.u.cfg.AckLagMs)*sampleRate/1000)
	start := s.finalEnd
	s.finalEnd = end
	var w resultsWord
	if word {
		w = resultsWord{stampWord: stampWord{SentNs: time.Now().UnixNano(), ArrivalNs: s.lastNs, Preroll: s.lastPre},
			Start: max(s.samples-frameSamples, 0), End: s.samples}
		if !s.worded {
			w.Start, s.worded = 0, true
		}
	}
	s.write(appendResultsWord(s.out[:0], start, end, w, speechFinal, fromFinalize))
	s.u.results.Add(1)
}

// write sends one text message; a failed write has closed the
// connection, so the next read ends the stream.
func (s *upStream) write(b []byte) {
	s.out = b
	_ = s.conn.Write(context.Background(), websocket.MessageText, b)
}
