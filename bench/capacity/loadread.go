package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"earshot/internal/readall"
	"earshot/protocol"
)

var (
	readyStatus         = []byte(`"status":"ready"`)
	conversationSession = []byte(`"type":"conversation_session"`)
	resultsType         = []byte(`{"type":"Results"`)
	textKey             = []byte(`"text":"`)
	endKey              = []byte(`"end":`)
	startKey            = []byte(`"start":`)
	durationKey         = []byte(`"duration":`)
)

// read reads every message until the connection ends, samples the result
// path's latency from stamp words and keeps the arrival words (see
// arrival.go), and notes the "ready" status and the conversations.
func (s *loadSession) read() {
	spec := s.spec
	ctx := context.Background()
	buf := make([]byte, 0, 4096)
	s.seen.multi = spec.Channels > 1
	for {
		typ, r, err := s.conn.Reader(ctx)
		if err == nil {
			buf, err = readall.Append(buf[:0], r)
		}
		if err != nil {
			if !s.closing.Load() {
				s.readErr = fmt.Errorf("%w: status %d: %w", errServerClosed, websocket.CloseStatus(err), err)
			}
			return
		}
		now := time.Now().UnixNano()
		if typ != websocket.MessageText {
			continue
		}
		if bytes.Equal(buf, protocol.Ping) { // answered the way the Omi app does
			if err := s.conn.Write(ctx, websocket.MessageBinary, protocol.PingAnswer); err != nil && !s.closing.Load() {
				s.readErr = fmt.Errorf("pong: %w", err)
				return
			}
			continue
		}
		if !s.ready && bytes.Contains(buf, readyStatus) {
			s.ready = true
			if spec.Ready != nil {
				spec.Ready.Add(1)
			}
		}
		if bytes.Contains(buf, conversationSession) {
			s.conv++ // the gateway's segment times count from a new origin
		}
		s.fresh = s.fresh[:0]
		scanStampWords(buf, func(ns int64) {
			if s.seen.fresh(ns) { // else a segment's older words, sent again
				s.fresh = append(s.fresh, ns)
			}
		})
		if len(s.fresh) == 0 {
			continue
		}
		if spec.Origin != "" {
			s.noteArrivals(buf)
		}
		oldest := slices.Min(s.fresh)
		for _, ns := range s.fresh {
			switch {
			case ns < spec.From || ns >= spec.To:
			case ns == oldest:
				s.resultNs = append(s.resultNs, now-ns)
			default:
				s.batched++
			}
		}
	}
}

// noteArrivals keeps the arrival word of each segment of buf (a gateway's
// segment array) or of buf itself (the relay's Results) when the word is
// the segment's last and new (in s.fresh), with the segment's end: the end
// of the last frame the word's Results covers.
func (s *loadSession) noteArrivals(buf []byte) {
	add := func(text []byte, endSec float64) {
		w, ok := lastStampWord(text)
		if !ok || w.ArrivalNs == 0 || !slices.Contains(s.fresh, w.SentNs) {
			return
		}
		s.samples = append(s.samples, arrivalSample{End: time.Duration(math.Round(endSec * 1e9)), ArrivalNs: w.ArrivalNs,
			Preroll: w.Preroll, Conv: max(s.conv, 0)})
	}
	switch {
	case len(buf) > 0 && buf[0] == '[':
		scanSegments(buf, add)
	case bytes.HasPrefix(buf, resultsType):
		if end, ok := resultsEnd(buf); ok {
			add(buf, end)
		}
	}
}

// scanSegments calls fn with the text and the end (seconds) of each
// segment of a gateway's segment array, in order (protocol.Segment: "text"
// before "end"; the stamp texts hold no quote).
func scanSegments(buf []byte, fn func(text []byte, end float64)) {
	for {
		i := bytes.Index(buf, textKey)
		if i < 0 {
			return
		}
		buf = buf[i+len(textKey):]
		j := bytes.IndexByte(buf, '"')
		if j < 0 {
			return
		}
		text := buf[:j]
		buf = buf[j+1:]
		k := bytes.Index(buf, endKey)
		if k < 0 {
			return
		}
		if n := bytes.Index(buf, textKey); n >= 0 && n < k {
			continue // no end in this segment
		}
		if end, ok := number(buf[k+len(endKey):]); ok {
			fn(text, end)
		}
		buf = buf[k+len(endKey):]
	}
}

// resultsEnd is the end (start + duration, seconds) of a Deepgram Results
// as the upstream writes it (its own "duration" and "start" before its
// words').
func resultsEnd(buf []byte) (float64, bool) {
	i, j := bytes.Index(buf, durationKey), bytes.Index(buf, startKey)
	if i < 0 || j < 0 {
		return 0, false
	}
	d, ok := number(buf[i+len(durationKey):])
	start, ok2 := number(buf[j+len(startKey):])
	return start + d, ok && ok2
}

// number parses the JSON number at the start of b.
func number(b []byte) (float64, bool) {
	n := 0
	for n < len(b) && (isDigit(b[n]) || b[n] == '.' || b[n] == '-' || b[n] == '+' || b[n] == 'e' || b[n] == 'E') {
		n++
	}
	v, err := strconv.ParseFloat(string(b[:n]), 64)
	return v, err == nil
}

// seenWords tells a session's new stamp words from those of segments sent
// again. One upstream socket's words rise (the upstream's clock), so with
// one channel a word is new when it is later than every word seen, and
// the first new word of a text frame is its oldest. Several channels'
// sockets answer independently, so their words may arrive out of order:
// with multi, a word is new when it was not seen before and is less than
// a minute older than the newest (a set, pruned of words older than that).
type seenWords struct {
	multi  bool
	newest int64
	set    map[int64]struct{}
}

func (w *seenWords) fresh(ns int64) bool {
	if !w.multi {
		if ns <= w.newest {
			return false
		}
		w.newest = ns
		return true
	}
	if _, ok := w.set[ns]; ok || ns < w.newest-60e9 {
		return false
	}
	if w.set == nil {
		w.set = make(map[int64]struct{})
	}
	if len(w.set) >= 1024 {
		for old := range w.set {
			if old < w.newest-60e9 {
				delete(w.set, old)
			}
		}
	}
	w.set[ns] = struct{}{}
	w.newest = max(w.newest, ns)
	return true
}
