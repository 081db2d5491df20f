package soniox_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"earshot/stages"
	"earshot/stages/soniox"
)

// waitFor bounds every blocking step of a test.
const waitFor = 5 * time.Second

// testKey is the API key of the fakes' providers; long enough to be
// scrubbed from upstream text.
const testKey = "sx-secret-key-0123"

var en16k = stages.StreamConfig{SampleRateHz: 16000, Channels: 1, Language: "en"}

// refusal is how the fake answers an upgrade it refuses.
type refusal struct {
	status int
	header map[string]string
	body   string
}

// fakeSoniox is a channel-driven stand-in for Soniox's real-time
// endpoint over real WebSockets. Each accepted connection is handed to the
// test as a *fakeConn; the test reads the client's frames from it and
// scripts the server's side.
type fakeSoniox struct {
	srv    *httptest.Server
	ctx    context.Context // server lifetime (not r.Context: hijacked)
	conns  chan *fakeConn
	refuse *refusal      // refuse every upgrade (set by an option)
	hold   chan struct{} // stall every handshake until closed (set by an option)
}

// fakeConn is one accepted connection, seen from the server.
type fakeConn struct {
	path   string
	header http.Header
	frames chan frame                      // client → server, closed when reading stops
	acts   chan func(*websocket.Conn) bool // server actions; true ends the connection
	done   chan struct{}                   // the handler returned
}

type frame struct {
	typ  websocket.MessageType
	data string
}

// newFake starts a fake; opts configure it before it serves.
func newFake(t testing.TB, opts ...func(*fakeSoniox)) *fakeSoniox {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeSoniox{ctx: ctx, conns: make(chan *fakeConn, 16)}
	for _, opt := range opts {
		opt(f)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.handle))
	t.Cleanup(func() {
		cancel()
		f.srv.Close()
	})
	return f
}

// provider builds a Provider against the fake (APIKey testKey unless set).
func (f *fakeSoniox) provider(t testing.TB, cfg soniox.Config) *soniox.Provider {
	t.Helper()
	cfg.URL = "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/transcribe-websocket"
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	p, err := soniox.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// dial opens a stream for sc and returns both ends and the start message
// the server received.
func (f *fakeSoniox) dial(t testing.TB, p *soniox.Provider, sc stages.StreamConfig) (stages.Stream, *fakeConn, frame) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	s, err := p.Dial(ctx, sc)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	fc := f.accept(t)
	return s, fc, fc.next(t)
}

// open is dial with en16k and a default provider, for tests about the
// stream rather than the start.
func (f *fakeSoniox) open(t testing.TB) (stages.Stream, *fakeConn) {
	t.Helper()
	s, fc, _ := f.dial(t, f.provider(t, soniox.Config{}), en16k)
	return s, fc
}

// accept returns the next accepted connection.
func (f *fakeSoniox) accept(t testing.TB) *fakeConn {
	t.Helper()
	select {
	case fc := <-f.conns:
		return fc
	case <-time.After(waitFor):
		t.Fatal("no connection accepted")
		return nil
	}
}

func (f *fakeSoniox) handle(w http.ResponseWriter, r *http.Request) {
	if rf := f.refuse; rf != nil {
		for k, v := range rf.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(rf.status)
		_, _ = w.Write([]byte(rf.body))
		return
	}
	if f.hold != nil {
		select {
		case <-f.hold:
		case <-r.Context().Done():
			return
		}
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	fc := &fakeConn{
		path:   r.URL.Path,
		header: r.Header.Clone(),
		frames: make(chan frame, 256),
		acts:   make(chan func(*websocket.Conn) bool),
		done:   make(chan struct{}),
	}
	defer close(fc.done)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(fc.frames)
		for {
			typ, b, err := c.Read(f.ctx)
			if err != nil {
				return
			}
			select {
			case fc.frames <- frame{typ, string(b)}:
			case <-f.ctx.Done():
				return
			}
		}
	}()
	defer func() {
		_ = c.CloseNow()
		<-readDone
	}()
	select {
	case f.conns <- fc:
	case <-f.ctx.Done():
		return
	}
	for {
		select {
		case act := <-fc.acts:
			if act(c) {
				return
			}
		case <-readDone:
			return
		case <-f.ctx.Done():
			return
		}
	}
}

// do runs act on the server's side of the connection.
func (fc *fakeConn) do(t testing.TB, act func(*websocket.Conn) bool) {
	t.Helper()
	select {
	case fc.acts <- act:
	case <-fc.done:
		t.Fatal("server connection already gone")
	case <-time.After(waitFor):
		t.Fatal("server connection stuck")
	}
}

// send makes the server send a text frame.
func (fc *fakeConn) send(t testing.TB, text string) {
	t.Helper()
	fc.do(t, sendText(text))
}

// sendText is the server action that sends one text frame.
func sendText(text string) func(*websocket.Conn) bool {
	return func(c *websocket.Conn) bool {
		return c.Write(context.Background(), websocket.MessageText, []byte(text)) != nil
	}
}

// close makes the server close with a closing handshake.
func (fc *fakeConn) close(t testing.TB, code websocket.StatusCode, reason string) {
	t.Helper()
	fc.do(t, func(c *websocket.Conn) bool {
		_ = c.Close(code, reason)
		return true
	})
}

// drop makes the server drop the TCP connection without a close frame.
func (fc *fakeConn) drop(t testing.TB) {
	t.Helper()
	fc.do(t, func(c *websocket.Conn) bool {
		_ = c.CloseNow()
		return true
	})
}

// next returns the next frame the client sent.
func (fc *fakeConn) next(t testing.TB) frame {
	t.Helper()
	select {
	case fr, ok := <-fc.frames:
		if !ok {
			t.Fatal("client connection ended")
		}
		return fr
	case <-time.After(waitFor):
		t.Fatal("no frame from client")
		return frame{}
	}
}
