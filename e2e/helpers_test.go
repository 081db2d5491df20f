package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/stages"
)

const (
	clientKey   = testrig.ClientKey
	upstreamKey = testrig.UpstreamKey
)

var (
	startEmulator = testrig.StartEmulator
	startGateway  = func(t *testing.T, dgURL string, cfg pipeline.Config) (*pipeline.Server, string) {
		t.Helper()
		return testrig.StartGateway(t, dgURL, cfg)
	}
)

// client is a test client of /v4/listen that upserts segments by id the
// way the app does.
type client struct {
	c        *websocket.Conn
	order    []string
	segments map[string]stages.Segment
	statuses []string
	deleted  []string
}

func dialClient(t *testing.T, url string) *client {
	t.Helper()
	c, _, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + clientKey}},
	})
	td.Require(t).CmpNoError(err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return &client{c: c, segments: map[string]stages.Segment{}}
}

// stream sends pcm in 100 ms frames.
func (c *client) stream(t *testing.T, pcm []byte, rateHz int) {
	t.Helper()
	step := rateHz / 10 * 2
	for off := 0; off < len(pcm); off += step {
		end := min(off+step, len(pcm))
		td.Require(t).CmpNoError(c.c.Write(context.Background(), websocket.MessageBinary, pcm[off:end]))
	}
}

// readUntil reads frames, upserting segments, until done reports true or
// the deadline passes.
func (c *client) readUntil(t *testing.T, timeout time.Duration, done func(*client) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for !done(c) {
		_, b, err := c.c.Read(ctx)
		td.Require(t).CmpNoError(err, "reading from the gateway")
		switch {
		case string(b) == "ping":
		case strings.HasPrefix(string(b), "["):
			var segs []stages.Segment
			td.Require(t).CmpNoError(json.Unmarshal(b, &segs))
			for _, s := range segs {
				if _, ok := c.segments[s.ID]; !ok {
					c.order = append(c.order, s.ID)
				}
				c.segments[s.ID] = s
			}
		default:
			var e struct {
				Type       string   `json:"type"`
				Status     string   `json:"status"`
				SegmentIDs []string `json:"segment_ids"`
			}
			td.Require(t).CmpNoError(json.Unmarshal(b, &e))
			switch e.Type {
			case "service_status":
				c.statuses = append(c.statuses, e.Status)
			case "segments_deleted":
				c.deleted = append(c.deleted, e.SegmentIDs...)
			}
		}
	}
}

// transcript is the client's segments in order of first appearance,
// without deleted ones.
func (c *client) transcript() []stages.Segment {
	var out []stages.Segment
	for _, id := range c.order {
		if !contains(c.deleted, id) {
			out = append(out, c.segments[id])
		}
	}
	return out
}

func (c *client) hasText(word string) bool {
	for _, s := range c.segments {
		if strings.Contains(s.Text, word) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
