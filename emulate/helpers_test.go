package emulate_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/stages"
)

const (
	testRate  = 16000
	testKey   = "sekrit-test-key"
	uuidRe    = `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`
	stdParams = "encoding=linear16&sample_rate=16000&channels=1&model=nova-3&punctuate=true&diarize=true"
)

// harness is an emulator served over real loopback TCP (newHarness) or an
// in-memory pipe network inside a synctest bubble (newPipeHarness).
type harness struct {
	srv    *emulate.Server
	http   *httptest.Server           // nil over the pipe network
	base   string                     // http://host
	client *http.Client               // nil means http.DefaultClient
	ends   chan emulate.StreamSummary // OnStreamEnd summaries
}

// newHarness starts a Server for cfg. Cleanup closes the Server (ending its
// streams) before the HTTP server.
func newHarness(t *testing.T, cfg emulate.Config) *harness {
	t.Helper()
	h := &harness{ends: make(chan emulate.StreamSummary, 16)}
	cfg.OnStreamEnd = func(s emulate.StreamSummary) { h.ends <- s }
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := emulate.NewServer(cfg, logger)
	td.Require(t).CmpNoError(err)
	h.srv = srv
	h.http = httptest.NewServer(srv.Handler())
	h.base = h.http.URL
	t.Cleanup(h.http.Close)
	t.Cleanup(func() { _ = srv.Close() })
	return h
}

// url is the WebSocket URL of /v1/listen with query q.
func (h *harness) url(q string) string {
	return "ws" + strings.TrimPrefix(h.base, "http") + "/v1/listen?" + q
}

// dial opens a stream with "Authorization: Token <key>" (none if key is "").
func (h *harness) dial(ctx context.Context, q, key string) (*websocket.Conn, *http.Response, error) {
	hdr := http.Header{}
	if key != "" {
		hdr.Set("Authorization", "Token "+key)
	}
	return websocket.Dial(ctx, h.url(q), &websocket.DialOptions{HTTPHeader: hdr, HTTPClient: h.client})
}

// mustDial opens a stream with the test key and standard params.
func (h *harness) mustDial(t *testing.T, ctx context.Context) *websocket.Conn {
	t.Helper()
	c, _, err := h.dial(ctx, stdParams, testKey)
	td.Require(t).CmpNoError(err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// summary waits for the next OnStreamEnd summary.
func (h *harness) summary(t *testing.T) emulate.StreamSummary {
	t.Helper()
	select {
	case s := <-h.ends:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no stream summary within 5s")
		return emulate.StreamSummary{}
	}
}

// signal builds linear16 mono audio at testRate.
type signal struct{ pcm []byte }

func (s *signal) silence(ms int) *signal {
	s.pcm = append(s.pcm, make([]byte, 2*ms*testRate/1000)...)
	return s
}

// tone appends ms of a 440 Hz sine of amplitude amp (RMS amp/√2).
func (s *signal) tone(ms, amp int) *signal {
	n := ms * testRate / 1000
	for i := range n {
		v := int16(float64(amp) * math.Sin(2*math.Pi*440*float64(i)/testRate))
		s.pcm = binary.LittleEndian.AppendUint16(s.pcm, uint16(v))
	}
	return s
}

// sendAudio writes pcm in binary frames of chunk bytes.
func sendAudio(t *testing.T, ctx context.Context, c *websocket.Conn, pcm []byte, chunk int) {
	t.Helper()
	for len(pcm) > 0 {
		n := min(chunk, len(pcm))
		td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageBinary, pcm[:n]))
		pcm = pcm[n:]
	}
}

func sendText(t *testing.T, ctx context.Context, c *websocket.Conn, msg string) {
	t.Helper()
	td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageText, []byte(msg)))
}

// message is the part of a server message the tests decode.
type message struct {
	Type         string  `json:"type"`
	Start        float64 `json:"start"`
	Duration     float64 `json:"duration"`
	IsFinal      bool    `json:"is_final"`
	SpeechFinal  bool    `json:"speech_final"`
	FromFinalize bool    `json:"from_finalize"`
	Channel      struct {
		Alternatives []struct {
			Transcript string     `json:"transcript"`
			Words      []wordJSON `json:"words"`
		} `json:"alternatives"`
	} `json:"channel"`
	RequestID string          `json:"request_id"`
	Raw       json.RawMessage `json:"-"`
}

type wordJSON struct {
	Word    string  `json:"word"`
	Start   float64 `json:"start"`
	End     float64 `json:"end"`
	Speaker int     `json:"speaker"`
}

// words returns the first alternative's words.
func (m message) words() []wordJSON {
	if len(m.Channel.Alternatives) == 0 {
		return nil
	}
	return m.Channel.Alternatives[0].Words
}

// readAll reads text messages until the connection ends and returns them
// with the error that ended it.
func readAll(t *testing.T, ctx context.Context, c *websocket.Conn) ([]message, error) {
	t.Helper()
	var msgs []message
	for {
		typ, b, err := c.Read(ctx)
		if err != nil {
			return msgs, err
		}
		td.Require(t).Cmp(typ, websocket.MessageText)
		var m message
		td.Require(t).CmpNoError(json.Unmarshal(b, &m))
		m.Raw = b
		msgs = append(msgs, m)
	}
}

// closeReason returns the close frame's reason, or "" if err has none.
func closeReason(err error) string {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Reason
	}
	return ""
}

// testCtx is a context for one test's I/O, bounded so a hang fails fast.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// scripted is a Recognizer whose i-th Accept returns batches[i] (nothing
// after the last batch); Flush returns nothing. It is not a Speech
// recognizer: its words are sent as spelled.
type scripted struct {
	batches [][]stages.Word
	calls   int
}

func (s *scripted) Accept([]byte) []stages.Word {
	s.calls++
	if s.calls > len(s.batches) {
		return nil
	}
	return s.batches[s.calls-1]
}

func (*scripted) Flush() []stages.Word { return nil }

// scriptedSpeech is scripted as a Speech recognizer.
type scriptedSpeech struct{ scripted }

func (*scriptedSpeech) Speech() bool { return true }
