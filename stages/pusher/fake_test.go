package pusher_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	wire "earshot/protocol/pusher"
	"earshot/stages"
	"earshot/stages/pusher"
)

// frame is one frame a fake pusher received.
type frame struct {
	conn    int // the connection's number, from 1
	kind    wire.Kind
	payload []byte
}

// fakePusher is a pusher over a real WebSocket: while down it refuses
// upgrades with 503; it sends every frame it reads to frames and answers
// a 104 with a 201 when answer says so (by connection number), else
// drops the connection right after it. readEvery,
// if set, paces its reads (a slow pusher).
type fakePusher struct {
	srv       *httptest.Server
	down      atomic.Bool
	conns     atomic.Int32
	dials     atomic.Int32
	frames    chan frame
	answer    func(conn int) bool
	readEvery time.Duration
	// dieAt, if > 0, makes the first connection die on its dieAt-th
	// audio frame, as if that frame was in flight when it went away.
	dieAt int
}

func newFakePusher(t *testing.T) *fakePusher {
	f := &fakePusher{frames: make(chan frame, 1<<16), answer: func(int) bool { return true }}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.dials.Add(1)
		if f.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if r.URL.Path != wire.Path || r.URL.Query().Get("uid") == "" || r.URL.Query().Get("sample_rate") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		c.SetReadLimit(8 << 20)
		n := int(f.conns.Add(1))
		ctx := context.Background()
		audio := 0
		for {
			if f.readEvery > 0 {
				time.Sleep(f.readEvery) // the peer under test is slow on purpose
			}
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			kind, payload, err := wire.Parse(b)
			if err != nil {
				continue
			}
			if kind == wire.KindAudio && n == 1 && f.dieAt > 0 {
				if audio++; audio == f.dieAt {
					_ = c.CloseNow()
					return
				}
			}
			f.frames <- frame{conn: n, kind: kind, payload: payload}
			if kind == wire.KindProcess && !f.answer(n) {
				_ = c.CloseNow() // dies without answering
				return
			}
			if kind == wire.KindProcess {
				var p wire.Process
				_ = json.Unmarshal(payload, &p)
				res, _ := json.Marshal(wire.Result{ConversationID: p.ConversationID, Success: true})
				_ = c.Write(ctx, websocket.MessageBinary, wire.AppendFrame(nil, wire.KindResult, res))
			}
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakePusher) url() string { return "ws" + strings.TrimPrefix(f.srv.URL, "http") }

// until returns the frames received up to the first one of kind (within
// a minute).
func (f *fakePusher) until(t *testing.T, kind wire.Kind) []frame {
	t.Helper()
	var got []frame
	deadline := time.After(time.Minute)
	for {
		select {
		case fr := <-f.frames:
			got = append(got, fr)
			if fr.kind == kind {
				return got
			}
		case <-deadline:
			t.Fatalf("no frame %d within a minute; got %d frames", kind, len(got))
		}
	}
}

// quickConfig is a Config with short waits, for tests.
func quickConfig(url string) pusher.Config {
	return pusher.Config{
		URL: url, FlushIntervalMs: 20, HeartbeatMs: 50, DegradedCooldownMs: 50, LingerMs: 60000,
		DialTimeoutMs: 2000, WriteTimeoutMs: 2000,
	}
}

func newPusher(t *testing.T, cfg pusher.Config) (*pusher.Pusher, *metrics.Set) {
	t.Helper()
	if cfg.Reconnect.BaseMs == 0 {
		cfg.Reconnect.BaseMs, cfg.Reconnect.CapMs = 10, 40
	}
	set := metrics.NewSet()
	p, err := pusher.New(cfg, pusher.Deps{Metrics: set, EncodeSegments: func(s []stages.Segment) ([]byte, error) {
		return json.Marshal(s)
	}})
	td.Require(t).CmpNoError(err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	})
	return p, set
}

// pcm is n samples of a constant value.
func pcm(n int, v byte) []byte {
	b := make([]byte, 2*n)
	for i := range b {
		b[i] = v
	}
	return b
}

// conversation pushes one conversation into s: its start at startSec,
// audio of 16 kHz from 0 to endSec, a segment, and its end at endSec.
func conversation(s *pusher.Session, id string, startSec, endSec float64) {
	s.Push(stages.Message{Conversation: &stages.Conversation{Change: stages.ConversationStarted, ID: id, StartSec: startSec}, ConversationID: id})
	for i := range int64(endSec * 10) {
		s.Audio(stages.Audio{PCM: pcm(1600, 1), Start: i * 1600, SampleRateHz: 16000})
	}
	s.Push(stages.Message{ConversationID: id, Segments: []stages.Segment{{ID: "s1", Text: "hello", Start: 0, End: 1}}})
	s.Push(stages.Message{Conversation: &stages.Conversation{Change: stages.ConversationEnded, ID: id, StartSec: startSec, EndSec: endSec}, ConversationID: id})
}
