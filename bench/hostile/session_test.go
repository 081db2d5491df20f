package hostile_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// session is a /v4/listen client whose reader goroutine records what the
// gateway sends: statuses, when segments arrived, and how it closed.
type session struct {
	conn *websocket.Conn

	mu       sync.Mutex
	statuses []string
	segAt    []time.Time // arrival of each segments frame
	segBytes int         // bytes of those frames
	code     websocket.StatusCode
	closed   chan struct{} // closed when the reader ends
}

// open dials a session with key and starts its reader. It does not wait
// for "ready".
func open(ctx context.Context, url, key string) (*session, error) {
	h := http.Header{}
	if key != "" {
		h.Set("Authorization", "Bearer "+key)
	}
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	s := &session{conn: c, code: -1, closed: make(chan struct{})}
	go s.read()
	return s, nil
}

func (s *session) read() {
	defer close(s.closed)
	for {
		_, b, err := s.conn.Read(context.Background())
		if err != nil {
			s.mu.Lock()
			s.code = websocket.CloseStatus(err)
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		switch {
		case len(b) > 0 && b[0] == '[':
			s.segAt = append(s.segAt, time.Now())
			s.segBytes += len(b)
		case len(b) > 0 && b[0] == '{':
			var ev struct {
				Type     string `json:"type"`
				Status   string `json:"status"`
				Segments []any  `json:"segments"`
			}
			if json.Unmarshal(b, &ev) == nil {
				if ev.Status != "" {
					s.statuses = append(s.statuses, ev.Status)
				}
				if len(ev.Segments) > 0 {
					s.segAt = append(s.segAt, time.Now())
				}
			}
		}
		s.mu.Unlock()
	}
}

// waitReady waits for the "ready" status; it reports false if the session
// closed or d passed first.
func (s *session) waitReady(d time.Duration) bool {
	return waitFor(d, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, st := range s.statuses {
			if st == "ready" {
				return true
			}
		}
		return s.code != -1 && s.ended()
	}) && !s.ended()
}

// ended reports whether the reader ended.
func (s *session) ended() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// closeCode waits up to d for the session to end and returns the close
// code the gateway sent (-1: none, the connection just ended; 0: still
// open).
func (s *session) closeCode(d time.Duration) websocket.StatusCode {
	select {
	case <-s.closed:
	case <-time.After(d):
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code
}

// segmentsAfter returns the arrival times of segments after t.
func (s *session) segmentsAfter(t time.Time) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Time
	for _, at := range s.segAt {
		if at.After(t) {
			out = append(out, at)
		}
	}
	return out
}

// send writes one binary frame within 10 s.
func (s *session) send(b []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.conn.Write(ctx, websocket.MessageBinary, b)
}

// tone is ms of 16-bit PCM at rate: a 440 Hz tone of amplitude amp
// (0: silence).
func tone(rate, ms int, amp float64) []byte {
	n := rate * ms / 1000
	b := make([]byte, 2*n)
	for i := range n {
		v := amp * math.Sin(2*math.Pi*440*float64(i)/float64(rate))
		binary.LittleEndian.PutUint16(b[2*i:], uint16(int16(v)))
	}
	return b
}

// word is one second of audio the emulator hears as one word: 400 ms of
// tone, then 600 ms of silence.
func word(rate int) []byte { return append(tone(rate, 400, 12000), tone(rate, 600, 0)...) }

// chatter is n pairs of the shortest words the emulator hears (30 ms of
// tone, then the 220 ms of quiet that ends a word), of two speakers (it
// tells them by loudness), so that each word becomes a segment of its
// own: about 240 bytes for the client per 250 ms of audio.
func chatter(rate, n int) []byte {
	pair := append(tone(rate, 30, 12000), tone(rate, 220, 0)...)
	pair = append(pair, append(tone(rate, 30, 20000), tone(rate, 220, 0)...)...)
	var b []byte
	for range n {
		b = append(b, pair...)
	}
	return b
}

var fieldRe = regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S+)`)

// ended is one "session ended" log line's fields.
type endedLine map[string]string

func (e endedLine) float(k string) float64 {
	v, _ := strconv.ParseFloat(e[k], 64)
	return v
}

// endedLines parses the gateway's "session ended" lines.
func (g *gateway) endedLines() []endedLine {
	var out []endedLine
	for _, l := range g.lines(`msg="session ended"`) {
		e := endedLine{}
		for _, m := range fieldRe.FindAllStringSubmatch(l, -1) {
			e[m[1]] = strings.Trim(m[2], `"`)
		}
		out = append(out, e)
	}
	return out
}
