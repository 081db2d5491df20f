package testrig

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"earshot/protocol"
)

// Client is a /v4/listen client that upserts segments by id the way the
// app does. Not safe for concurrent use, except that Stream may run while
// another goroutine calls ReadUntil.
type Client struct {
	Conn     *websocket.Conn
	order    []string
	segments map[string]protocol.Segment
	// Statuses are the service_status values received, in order.
	Statuses []string
	// Deleted are the segment IDs removed by segments_deleted events.
	Deleted []string
	// Conversations are the ids of the conversations started
	// (conversation_session), Processing those ended
	// (memory_processing_started), in order.
	Conversations, Processing []string
	// ConversationOf maps a segment id to the conversation it came in.
	ConversationOf map[string]string
}

// Dial opens a session at url (with its query) using ClientKey.
func Dial(tb testing.TB, url string) *Client {
	tb.Helper()
	c, _, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + ClientKey}},
	})
	if err != nil {
		tb.Fatalf("dial %s: %v", url, err)
	}
	tb.Cleanup(func() { _ = c.CloseNow() })
	return &Client{Conn: c, segments: map[string]protocol.Segment{}, ConversationOf: map[string]string{}}
}

// Stream sends pcm in 100 ms frames, one every pace (0: as fast as the
// connection takes them). It returns the first write error.
func (c *Client) Stream(pcm []byte, rateHz int, pace time.Duration) error {
	step := rateHz / 10 * 2
	for off := 0; off < len(pcm); off += step {
		if err := c.Conn.Write(context.Background(), websocket.MessageBinary, pcm[off:min(off+step, len(pcm))]); err != nil {
			return err
		}
		if pace > 0 {
			time.Sleep(pace)
		}
	}
	return nil
}

// ReadUntil reads frames, upserting segments, until done reports true; it
// fails the test if timeout passes first or the connection ends.
func (c *Client) ReadUntil(tb testing.TB, timeout time.Duration, done func(*Client) bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for !done(c) {
		_, b, err := c.Conn.Read(ctx)
		if err != nil {
			tb.Fatalf("reading from the gateway: %v", err)
		}
		if err := c.handle(b); err != nil {
			tb.Fatalf("bad frame %q: %v", b, err)
		}
	}
}

func (c *Client) handle(b []byte) error {
	if bytes.Equal(b, protocol.Ping) {
		return nil
	}
	segs, e, err := protocol.Decode(b)
	if err != nil {
		return err
	}
	for _, s := range segs {
		if _, ok := c.segments[s.ID]; !ok {
			c.order = append(c.order, s.ID)
			if n := len(c.Conversations); n > 0 {
				c.ConversationOf[s.ID] = c.Conversations[n-1]
			}
		}
		c.segments[s.ID] = s
	}
	switch e.Type {
	case protocol.TypeConversationSession:
		c.Conversations = append(c.Conversations, e.ConversationID)
	case protocol.TypeMemoryProcessingStarted:
		c.Processing = append(c.Processing, e.ConversationID)
	case protocol.TypeServiceStatus:
		c.Statuses = append(c.Statuses, e.Status)
	case protocol.TypeSegmentsDeleted:
		c.Deleted = append(c.Deleted, e.SegmentIDs...)
	}
	return nil
}

// Transcript is the segments in order of first appearance, without
// deleted ones.
func (c *Client) Transcript() []protocol.Segment {
	var out []protocol.Segment
	for _, id := range c.order {
		if !slices.Contains(c.Deleted, id) {
			out = append(out, c.segments[id])
		}
	}
	return out
}

// HasText reports whether a segment contains word.
func (c *Client) HasText(word string) bool {
	for _, s := range c.segments {
		if strings.Contains(s.Text, word) {
			return true
		}
	}
	return false
}

// Drain reads and upserts whatever arrives for d, then returns. The
// connection is closed afterwards (an expiring read context closes it), so
// Drain is the last read of a session.
func (c *Client) Drain(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		_, b, err := c.Conn.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := c.handle(b); err != nil {
			return err
		}
	}
}

// DialReady opens a session like Dial and reads until the gateway reports
// the upstream ready.
func DialReady(tb testing.TB, url string) *Client {
	tb.Helper()
	c := Dial(tb, url)
	c.ReadUntil(tb, 30*time.Second, func(c *Client) bool {
		return slices.Contains(c.Statuses, protocol.StatusReady)
	})
	return c
}
