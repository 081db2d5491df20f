package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"earshot/protocol"
)

// Segment is a transcript segment as the server sends it.
type Segment = protocol.Segment

// Who closed a session.
const (
	ClosedByClient = "client"
	ClosedByServer = "server"
)

// StatusAbnormal is reported as the close code when the connection ended
// without a closing handshake (as browsers report it; never sent on the
// wire).
const StatusAbnormal = int(websocket.StatusAbnormalClosure)

// Close reasons the client sends.
const (
	reasonDone        = "done"
	reasonDisconnect  = "disconnect test"
	reasonInterrupted = "interrupted"
)

// session is one connection's state. Fields under mu are shared between
// the sender (Run's goroutine for the session) and the reader.
type session struct {
	cfg    *Config
	idx    int
	origin float64 // capture seconds of the first speech in the audio
	emit   func(Event)
	prog   *progress

	start time.Time // when the dial began
	// updated gets a token (without blocking) on every segment update,
	// so that the wait after the audio starts over.
	updated chan struct{}

	mu         sync.Mutex
	order      []string
	segs       map[string]Segment
	deleted    map[string]bool
	nDeleted   int
	sendTimes  []time.Time // when chunk k was handed to the connection
	firstChunk time.Time
	firstSeg   time.Duration
	hasFirst   bool
	latencies  []time.Duration
	updates    int
	statuses   []string
	pings      int
	words      int // current word count, for progress
}

// listenURL builds the session URL: cfg.URL with language, sample_rate and codec
// set in its query.
func (c *Config) listenURL() (string, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return "", fmt.Errorf("bad url: %w", err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return "", fmt.Errorf("bad url %q: the scheme must be ws or wss", c.URL)
	}
	q := u.Query()
	if c.Language != "" {
		q.Set("language", c.Language)
	}
	q.Set("sample_rate", strconv.Itoa(c.SampleRate))
	q.Set("codec", c.Codec)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// run connects after delay and streams; it always returns a result.
func (s *session) run(ctx context.Context, delay time.Duration) SessionResult {
	res := SessionResult{Session: s.idx, CloseCode: -1}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			res.Failure = "interrupted before connecting"
			res.Failed = true
			return res
		case <-t.C:
		}
	}
	s.start = time.Now()
	s.segs, s.deleted = map[string]Segment{}, map[string]bool{}
	s.updated = make(chan struct{}, 1)
	u, err := s.cfg.listenURL()
	if err != nil {
		return s.fail(res, err.Error())
	}
	dctx, cancel := context.WithTimeout(ctx, s.cfg.dialTimeout())
	conn, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + s.cfg.Key}},
	})
	cancel()
	if err != nil {
		msg := "connect: " + err.Error()
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			msg = fmt.Sprintf("connect: HTTP %d: %v", resp.StatusCode, err)
		}
		return s.fail(res, msg)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(s.cfg.readLimit())
	connected := time.Now()
	res.Connected = true
	s.emit(Event{Session: s.idx, Kind: EventConnected, Elapsed: connected.Sub(s.start)})
	s.prog.active.Add(1)
	defer s.prog.active.Add(-1)

	// The reader owns conn's reads; a context that never expires on the
	// data path, the connection is torn down by closing it.
	readDone := make(chan error, 1)
	go func() { readDone <- s.read(conn) }()

	var (
		readErr  error
		readEnd  bool
		cut      bool // the audio was not all sent
		closedBy string
		reason   = reasonDone
	)
	wait := func(d time.Duration) { // until d passed, the server closed or ctx ended
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case readErr = <-readDone:
			readEnd = true
		case <-ctx.Done():
		case <-t.C:
		}
	}

	var stopAt time.Time // disconnect mode: when to hang up
	if s.cfg.Mode == ModeDisconnect {
		stopAt = connected.Add(s.cfg.DisconnectAfter)
	}
	sent := s.stream(ctx, conn, stopAt, readDone, &readErr, &readEnd)
	res.AudioSentS = round3(float64(sent) / 2 / float64(s.cfg.SampleRate))
	total := len(s.cfg.Audio) * s.cfg.loops()
	cut = sent < total
	switch {
	case readEnd:
	case ctx.Err() != nil:
	case s.cfg.Mode == ModeDisconnect:
		reason = reasonDisconnect
		if d := time.Until(stopAt); d > 0 {
			wait(d)
		}
	default:
		s.waitQuiet(ctx, readDone, &readErr, &readEnd)
	}
	if !readEnd && ctx.Err() != nil {
		reason = reasonInterrupted
	}

	if readEnd {
		closedBy = ClosedByServer
	} else {
		closedBy = ClosedByClient
		// The closing handshake: Close waits (bounded by the library) for
		// the server's close frame, which the reader then returns.
		closeErr := conn.Close(websocket.StatusNormalClosure, reason)
		t := time.NewTimer(closeWait)
		select {
		case readErr = <-readDone:
		case <-t.C:
			_ = conn.CloseNow()
			readErr = <-readDone
		}
		t.Stop()
		if closeErr == nil && websocket.CloseStatus(readErr) == -1 {
			// The handshake completed, but Close read the server's close
			// frame itself (the reader was busy answering a ping) and
			// then closed the connection under the reader.
			readErr = websocket.CloseError{Code: websocket.StatusNormalClosure, Reason: reason}
		}
	}
	res.HeldS = round3(time.Since(connected).Seconds())
	res.ClosedBy = closedBy
	res.CloseCode, res.CloseReason = closeOf(readErr)
	s.emit(Event{Session: s.idx, Kind: EventClosed, Elapsed: time.Since(s.start),
		Text: fmt.Sprintf("closed by %s: %d %s", closedBy, res.CloseCode, res.CloseReason)})

	s.finish(&res, sent, cut)
	switch {
	case reason == reasonInterrupted:
		res.Failed, res.Failure = true, "interrupted"
	case res.CloseCode != int(websocket.StatusNormalClosure):
		res.Failed = true
		res.Failure = fmt.Sprintf("closed by %s with %d %s", closedBy, res.CloseCode, res.CloseReason)
	case res.SpeechSent && res.Segments == 0 && s.cfg.Mode != ModeDisconnect:
		res.Failed, res.Failure = true, "no segments although the audio sent had speech"
	}
	return res
}

// closeWait bounds how long the client waits for the server's close frame
// after its own (coder/websocket itself gives up after 5 s).
const closeWait = 6 * time.Second

// stream sends the audio, Loops times, one frame at a time at the pace:
// 100 ms chunks of raw PCM, or the codec packets of Config.Packets. It
// stops early when the server closes (recording the read error in
// readErr and setting readEnd), ctx ends, or stopAt (if set) passes. It
// returns the audio sent, in bytes of the 16-bit PCM it stands for.
func (s *session) stream(ctx context.Context, conn *websocket.Conn, stopAt time.Time,
	readDone <-chan error, readErr *error, readEnd *bool,
) int {
	frames, frameBytes := s.cfg.frames()
	var every time.Duration
	if s.cfg.Pace > 0 {
		every = time.Duration(float64(s.cfg.frameSeconds()) * float64(time.Second) / s.cfg.Pace)
	}
	var stopC <-chan time.Time
	if !stopAt.IsZero() {
		t := time.NewTimer(time.Until(stopAt))
		defer t.Stop()
		stopC = t.C
	}
	now := make(chan time.Time)
	close(now)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	sent, k := 0, 0
	var first time.Time
	for range s.cfg.loops() {
		for i, b := range frames {
			due := (<-chan time.Time)(now)
			if every > 0 && k > 0 {
				timer.Reset(time.Until(first.Add(time.Duration(k) * every)))
				due = timer.C
			}
			select {
			case <-due:
			case *readErr = <-readDone:
				*readEnd = true
				return sent
			case <-ctx.Done():
				return sent
			case <-stopC:
				return sent
			}
			t := time.Now()
			s.mu.Lock()
			if k == 0 {
				first, s.firstChunk = t, t
			}
			s.sendTimes = append(s.sendTimes, t)
			s.mu.Unlock()
			if err := conn.Write(context.Background(), websocket.MessageBinary, b); err != nil {
				// The connection is gone: the reader reports why (most
				// likely the server's close frame).
				*readErr = <-readDone
				*readEnd = true
				return sent
			}
			n := len(b)
			if s.cfg.Packets != nil { // the last packets' padding is not audio
				n = min(frameBytes, max(0, len(s.cfg.Audio)-i*frameBytes))
			}
			sent += n
			k++
			s.prog.audio.Add(int64(n))
		}
	}
	return sent
}

// waitQuiet waits after the audio until WaitFinal has passed without a
// segment update (each update starts it over, so a gateway still working
// through a backlog keeps the session), at most WaitFinalRounds times
// WaitFinal in all, or until the server closed (readEnd) or ctx ended.
// A session without any segment yet waits WaitFirst for its first one
// when that is longer (and the limit grows by as much).
func (s *session) waitQuiet(ctx context.Context, readDone <-chan error, readErr *error, readEnd *bool) {
	first := s.cfg.WaitFinal
	s.mu.Lock()
	if len(s.segs) == 0 {
		first = max(first, s.cfg.WaitFirst)
	}
	s.mu.Unlock()
	quiet := time.NewTimer(first)
	defer quiet.Stop()
	limit := time.NewTimer(WaitFinalRounds*s.cfg.WaitFinal + first - s.cfg.WaitFinal)
	defer limit.Stop()
	for {
		select {
		case <-s.updated:
			quiet.Reset(s.cfg.WaitFinal)
		case *readErr = <-readDone:
			*readEnd = true
			return
		case <-ctx.Done():
			return
		case <-quiet.C:
			return
		case <-limit.C:
			return
		}
	}
}

// read handles frames until the connection ends, and returns the error
// that ended it.
func (s *session) read(conn *websocket.Conn) error {
	for {
		typ, b, err := conn.Read(context.Background())
		if err != nil {
			return err
		}
		now := time.Now()
		if typ == websocket.MessageText && bytes.Equal(b, protocol.Ping) {
			s.mu.Lock()
			s.pings++
			s.mu.Unlock()
			// Answered like the app; a failure shows up on the next Read.
			_ = conn.Write(context.Background(), websocket.MessageBinary, protocol.PingAnswer)
			continue
		}
		s.handle(b, now)
	}
}

// handle applies one text frame received at now.
func (s *session) handle(b []byte, now time.Time) {
	segs, e, err := protocol.Decode(b)
	if err != nil {
		return // the ping, or text that is not the protocol's
	}
	if segs != nil {
		s.upsert(segs, now)
		return
	}
	switch e.Type {
	case protocol.TypeServiceStatus:
		s.mu.Lock()
		s.statuses = append(s.statuses, e.Status)
		s.mu.Unlock()
		text := e.Status
		if e.StatusText != "" {
			text += ": " + e.StatusText
		}
		s.emit(Event{Session: s.idx, Kind: EventStatus, Elapsed: now.Sub(s.start), Text: text})
	case protocol.TypeSegmentsDeleted:
		s.mu.Lock()
		for _, id := range e.SegmentIDs {
			if _, ok := s.segs[id]; ok && !s.deleted[id] {
				s.nDeleted++
			}
			s.deleted[id] = true
		}
		s.recount()
		s.mu.Unlock()
		s.emit(Event{Session: s.idx, Kind: EventDeleted, Elapsed: now.Sub(s.start), Text: strings.Join(e.SegmentIDs, " ")})
	}
}

// upsert stores segments by id and records latencies.
func (s *session) upsert(segs []Segment, now time.Time) {
	var events []Event
	s.mu.Lock()
	for _, g := range segs {
		old, seen := s.segs[g.ID]
		if !seen {
			s.order = append(s.order, g.ID)
		}
		delete(s.deleted, g.ID) // a segment sent again is alive
		s.segs[g.ID] = g
		s.updates++
		if !s.hasFirst && !s.firstChunk.IsZero() {
			s.hasFirst, s.firstSeg = true, now.Sub(s.firstChunk)
		}
		ev := Event{Session: s.idx, Kind: EventSegment, Elapsed: now.Sub(s.start), Segment: g, New: !seen, Latency: -1}
		if (!seen || g.End > old.End) && len(s.sendTimes) > 0 {
			// Update latency: from handing over the chunk that holds the
			// segment's end (on the capture clock) to receiving it.
			k := chunkIndex(s.origin+g.End, s.cfg.frameSeconds())
			k = max(0, min(k, len(s.sendTimes)-1))
			ev.Latency = now.Sub(s.sendTimes[k])
			s.latencies = append(s.latencies, ev.Latency)
		}
		events = append(events, ev)
	}
	select {
	case s.updated <- struct{}{}:
	default:
	}
	before := s.words
	s.recount()
	delta := s.words - before
	s.mu.Unlock()
	s.prog.words.Add(int64(delta))
	for _, ev := range events {
		s.emit(ev)
	}
}

// chunkIndex is the index of the frame (of frameSec seconds) holding
// capture second t: the frame k covering (k·frameSec, (k+1)·frameSec] (a
// word ending at 1.4 s needs the audio up to 1.4 s, which 100 ms chunk 13
// completes).
func chunkIndex(t, frameSec float64) int {
	return int(math.Ceil(t/frameSec-1e-6)) - 1
}

// recount refreshes the word count; s.mu is held.
func (s *session) recount() {
	s.words = len(Words(s.transcriptLocked()))
}

// liveLocked is the segments in order of first appearance, without deleted
// ones; s.mu is held.
func (s *session) liveLocked() []Segment {
	out := make([]Segment, 0, len(s.order))
	for _, id := range s.order {
		if !s.deleted[id] {
			out = append(out, s.segs[id])
		}
	}
	return out
}

func (s *session) transcriptLocked() string {
	var texts []string
	for _, g := range s.liveLocked() {
		if g.Text != "" {
			texts = append(texts, g.Text)
		}
	}
	return strings.Join(texts, " ")
}

// finish fills in the transcript and measurements.
func (s *session) finish(res *SessionResult, sent int, cut bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res.Statuses = slices.Clone(s.statuses)
	res.Pings = s.pings
	res.Chunks = len(s.sendTimes)
	res.Updates = s.updates
	res.SegmentList = s.liveLocked()
	res.Segments = len(res.SegmentList)
	res.SegmentsDeleted = s.nDeleted
	res.Transcript = s.transcriptLocked()
	res.Words = len(Words(res.Transcript))
	if s.hasFirst {
		v := ms(s.firstSeg)
		res.FirstSegmentMs = &v
	}
	res.UpdateLatency = Summarize(s.latencies)
	if s.cfg.HasSpeech {
		res.SpeechSent = float64(sent)/2/float64(s.cfg.SampleRate) > s.origin
	}
	if s.cfg.Ref != "" && !cut {
		ref := strings.TrimSpace(strings.Repeat(s.cfg.Ref+" ", s.cfg.loops()))
		w := WER(ref, res.Transcript)
		res.WER = &w
	}
}

func (s *session) fail(res SessionResult, msg string) SessionResult {
	res.Failed, res.Failure = true, msg
	s.emit(Event{Session: s.idx, Kind: EventClosed, Elapsed: time.Since(s.start), Text: msg})
	return res
}

// closeOf is the close code and reason of the error that ended reads:
// the peer's close frame, or StatusAbnormal without one.
func closeOf(err error) (int, string) {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return int(ce.Code), ce.Reason
	}
	if err == nil {
		return StatusAbnormal, ""
	}
	return StatusAbnormal, err.Error()
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
