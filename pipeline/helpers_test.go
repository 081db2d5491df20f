package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/memnet"
	"earshot/pipeline"
	"earshot/protocol"
	"earshot/stages"
	"earshot/stages/stagestest"
)

const testKey = "k-test-123"

// gateway is a Server under test with a channel-driven fake upstream.
type gateway struct {
	srv    *pipeline.Server
	p      *stagestest.Provider
	base   string // ws:// URL of /v4/listen without query
	client *http.Client
	set    *metrics.Set
	// dialRaw opens a bare connection to the gateway, for clients that
	// break the protocol (see rawws).
	dialRaw func(ctx context.Context) (net.Conn, error)
}

// newGateway serves a gateway over real loopback TCP, or, with mem, over an
// in-memory network usable inside a synctest bubble.
func newGateway(t *testing.T, cfg pipeline.Config, mem bool) *gateway {
	t.Helper()
	return newGatewayWith(t, cfg, pipeline.Deps{}, mem)
}

// newGatewayWith is newGateway with some of the Deps (Provider and
// Metrics are the gateway's own; a nil Logger discards).
func newGatewayWith(t *testing.T, cfg pipeline.Config, deps pipeline.Deps, mem bool) *gateway {
	t.Helper()
	if cfg.APIKeys == nil {
		cfg.APIKeys = []string{"other-key", testKey}
	}
	g := &gateway{p: stagestest.NewProvider(), set: metrics.NewSet()}
	deps.Provider, deps.Metrics = g.p, g.set
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := pipeline.New(cfg, deps)
	td.Require(t).CmpNoError(err)
	g.srv = srv
	if mem {
		ln := memnet.Listen()
		hs := &http.Server{Handler: srv}
		go func() { _ = hs.Serve(ln) }()
		t.Cleanup(func() {
			_ = srv.Shutdown(context.Background())
			_ = hs.Close()
		})
		g.base, g.client = "ws://gateway/v4/listen", ln.Client()
		g.dialRaw = func(ctx context.Context) (net.Conn, error) { return ln.Dial(ctx, "", "") }
		return g
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Shutdown(context.Background())
		hs.Close()
	})
	g.base, g.client = "ws"+strings.TrimPrefix(hs.URL, "http")+"/v4/listen", hs.Client()
	g.dialRaw = func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", hs.Listener.Addr().String())
	}
	return g
}

// dial opens a client session with key ("" sends no Authorization).
func (g *gateway) dial(t *testing.T, query, key string) *websocket.Conn {
	t.Helper()
	h := http.Header{}
	if key != "" {
		h.Set("Authorization", "Bearer "+key)
	}
	u := g.base
	if query != "" {
		u += "?" + query
	}
	c, _, err := websocket.Dial(context.Background(), u, &websocket.DialOptions{HTTPClient: g.client, HTTPHeader: h})
	td.Require(t).CmpNoError(err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// event is any JSON text frame from the gateway: an object event or, with
// Segments set, a bare array of segments.
type event struct {
	Type       string             `json:"type"`
	Status     string             `json:"status"`
	StatusText string             `json:"status_text"`
	SegmentIDs []string           `json:"segment_ids"`
	Segments   []protocol.Segment `json:"-"`
	Raw        json.RawMessage    `json:"-"`
	Ping       bool               `json:"-"`
}

// next reads the next text frame other than a conversation's start or
// end (nextAny returns those too).
func next(t *testing.T, c *websocket.Conn) event {
	t.Helper()
	for {
		e := nextAny(t, c)
		if e.Type != protocol.TypeConversationSession && e.Type != protocol.TypeMemoryProcessingStarted {
			return e
		}
	}
}

// nextAny reads the next text frame.
func nextAny(t *testing.T, c *websocket.Conn) event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	typ, b, err := c.Read(ctx)
	td.Require(t).CmpNoError(err)
	td.Require(t).Cmp(typ, websocket.MessageText)
	e := event{Raw: b}
	switch {
	case string(b) == "ping":
		e.Ping = true
	case strings.HasPrefix(string(b), "["):
		td.Require(t).CmpNoError(json.Unmarshal(b, &e.Segments))
	default:
		td.Require(t).CmpNoError(json.Unmarshal(b, &e))
	}
	return e
}

// closeOf reads until the gateway closes and returns the close code and
// reason.
func closeOf(t *testing.T, c *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code, ce.Reason
			}
			return -1, err.Error()
		}
	}
}

// statuses reads the start-up service_status events up to stt_initiating.
func statuses(t *testing.T, c *websocket.Conn) []string {
	t.Helper()
	var got []string
	for len(got) < 3 {
		e := next(t, c)
		if e.Ping {
			continue
		}
		got = append(got, e.Status)
	}
	return got
}

// endOnCloseStream answers the fake upstream's CloseStream (skipping
// KeepAlives) by ending the stream normally, as Deepgram does.
func endOnCloseStream(up *stagestest.Stream) {
	for ctl := range up.Controls {
		if ctl == stages.ControlCloseStream {
			up.EndNormally()
			return
		}
	}
}
