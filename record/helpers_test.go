package record_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/protocol/pusher"
	"earshot/record"
)

// testTimeout bounds every network wait of a test (a hang fails, it
// does not wait for the test binary's timeout).
const testTimeout = 20 * time.Second

// rig is a Recorder served over a real TCP socket.
type rig struct {
	dir string
	rec *record.Recorder
	srv *httptest.Server
}

// newRig serves a new Recorder on dir (a new temporary one when empty)
// until the test ends.
func newRig(t *testing.T, dir string, cfg record.Config) *rig {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	cfg.Dir = dir
	rec, err := record.New(cfg, record.Deps{Logger: slog.New(slog.DiscardHandler)})
	td.Require(t).CmpNoError(err)
	srv := httptest.NewServer(rec)
	r := &rig{dir: dir, rec: rec, srv: srv}
	t.Cleanup(r.close)
	return r
}

// close closes the Recorder and then the server. Idempotent.
func (r *rig) close() {
	_ = r.rec.Close()
	r.srv.Close()
}

// wsURL is the listen URL with a raw query.
func (r *rig) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(r.srv.URL, "http") + pusher.Path + "?" + query
}

// conn is a test's pusher client. It reads all the time, as a real
// sender does (so that close frames are answered): messages go to msgs,
// and the error that ended reading to ended.
type conn struct {
	t     *testing.T
	c     *websocket.Conn
	msgs  chan message
	ended chan error
}

type message struct {
	typ  websocket.MessageType
	data []byte
}

// dial connects as uid at rate Hz.
func (r *rig) dial(t *testing.T, uid string, rate int) *conn {
	t.Helper()
	u, err := pusher.URL(r.srv.URL, uid, rate)
	td.Require(t).CmpNoError(err)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, _, err := websocket.Dial(ctx, u, nil)
	td.Require(t).CmpNoError(err)
	cn := &conn{t: t, c: c, msgs: make(chan message, 64), ended: make(chan error, 1)}
	go func() {
		for {
			typ, data, err := c.Read(context.Background())
			if err != nil {
				cn.ended <- err
				close(cn.msgs)
				return
			}
			cn.msgs <- message{typ, data}
		}
	}()
	t.Cleanup(func() {
		c.CloseNow()
		err := <-cn.ended
		cn.ended <- err
	})
	return cn
}

// send writes one binary frame.
func (c *conn) send(frame []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	td.Require(c.t).CmpNoError(c.c.Write(ctx, websocket.MessageBinary, frame))
}

func (c *conn) conversation(id string) {
	c.send(pusher.AppendFrame(nil, pusher.KindConversation, []byte(id)))
}

func (c *conn) audio(startUnix float64, samples []int16) {
	c.send(pusher.AppendAudio(nil, startUnix, pcm(samples)))
}

func (c *conn) segments(id string, segs ...string) {
	c.t.Helper()
	raw := make([]json.RawMessage, len(segs))
	for i, s := range segs {
		raw[i] = json.RawMessage(s)
	}
	c.send(pusher.AppendFrame(nil, pusher.KindSegments, mustJSON(c.t, pusher.Segments{Segments: raw, MemoryID: id})))
}

// process sends a 104 and returns the 201 that answers it.
func (c *conn) process(id, language string) pusher.Result {
	c.t.Helper()
	c.send(pusher.AppendFrame(nil, pusher.KindProcess, mustJSON(c.t, pusher.Process{ConversationID: id, Language: language})))
	return c.result()
}

// result reads the next message, which must be a 201.
func (c *conn) result() pusher.Result {
	c.t.Helper()
	require := td.Require(c.t)
	var m message
	select {
	case msg, ok := <-c.msgs:
		require.True(ok, "connection ended before the 201")
		m = msg
	case <-time.After(testTimeout):
		require.Fatalf("no 201 within %s", testTimeout)
	}
	require.Cmp(m.typ, websocket.MessageBinary)
	kind, payload, err := pusher.Parse(m.data)
	require.CmpNoError(err)
	require.Cmp(kind, pusher.KindResult)
	var res pusher.Result
	require.CmpNoError(json.Unmarshal(payload, &res))
	return res
}

// barrier makes sure the Recorder handled every frame sent before: a
// 104 with an invalid id is answered at once and touches nothing.
func (c *conn) barrier() {
	c.t.Helper()
	td.Cmp(c.t, c.process("-/-", ""), pusher.Result{ConversationID: "-/-", Error: "invalid conversation id"})
}

// closeStatus waits for the connection to end, with no message before,
// and returns its close status.
func (c *conn) closeStatus() websocket.StatusCode {
	c.t.Helper()
	select {
	case m, ok := <-c.msgs:
		td.Require(c.t).False(ok, "unexpected message %v", m)
	case <-time.After(testTimeout):
		c.t.Fatalf("connection still up after %s", testTimeout)
	}
	err := <-c.ended
	c.ended <- err
	return websocket.CloseStatus(err)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	td.Require(t).CmpNoError(err)
	return b
}

// pcm is samples as PCM16 little-endian.
func pcm(samples []int16) []byte {
	b := make([]byte, 0, 2*len(samples))
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

// ramp is n samples counting from first.
func ramp(first, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(first + i)
	}
	return s
}

// metricsOf scrapes the rig's /metrics into name{labels} → value.
func (r *rig) metricsOf(t *testing.T) map[string]string {
	t.Helper()
	resp, err := http.Get(r.srv.URL + "/metrics")
	td.Require(t).CmpNoError(err)
	defer resp.Body.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if name, value, ok := strings.Cut(sc.Text(), " "); ok && strings.HasPrefix(name, "earshot_record_") {
			out[name] = value
		}
	}
	td.Require(t).CmpNoError(sc.Err())
	return out
}

// get returns the status and body of a GET.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	td.Require(t).CmpNoError(err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	td.Require(t).CmpNoError(err)
	return resp.StatusCode, string(b)
}
