package record_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/protocol/pusher"
	"earshot/record"
)

// Two connections (an old one not yet noticed dead and its replacement)
// re-send the same audio at once: one timeline, no gap.
func TestConcurrentConnectionsOneConversation(t *testing.T) {
	r := newRig(t, "", record.Config{})
	const frames, n = 50, 160
	var wg sync.WaitGroup
	for range 2 {
		c := r.dial(t, "u", 16000)
		c.conversation("shared")
		wg.Go(func() {
			for k := range frames {
				c.audio(t0+float64(k)*0.01, ramp(k*n, n))
			}
			c.segments("shared", `{"id":"s"}`)
			c.barrier()
		})
	}
	wg.Wait()
	td.Cmp(t, r.dial(t, "u", 16000).process("shared", ""), pusher.Result{ConversationID: "shared", Success: true})
	conv, err := record.ReadConversation(r.dir, "shared")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, conv.Samples, ramp(0, frames*n))
	td.Cmp(t, conv.Meta, td.SuperJSONOf(`{"samples":8000,"gap_samples":0,"duplicate_samples":8000,"segment_lines":2}`))
}

func TestOtherOwnersAreRefused(t *testing.T) {
	r := newRig(t, "", record.Config{})
	a := r.dial(t, "alice", 16000)
	a.conversation("c")
	a.audio(t0, ramp(1, 160))
	a.barrier()

	b := r.dial(t, "bob", 16000)
	b.conversation("c")
	b.audio(t0+0.01, ramp(500, 160))
	b.segments("c", `{"id":"bob"}`)
	td.Cmp(t, b.process("c", ""), pusher.Result{ConversationID: "c", Error: "conversation belongs to another uid"})
	slow := r.dial(t, "alice", 8000) // alice at another sample rate
	slow.conversation("c")
	slow.audio(t0+0.01, ramp(500, 80))
	slow.barrier()

	td.Cmp(t, a.process("c", ""), pusher.Result{ConversationID: "c", Success: true})
	conv, err := record.ReadConversation(r.dir, "c")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, conv.Samples, ramp(1, 160))
	td.CmpNil(t, conv.Segments)
	m := r.metricsOf(t)
	td.Cmp(t, m[`earshot_record_dropped_frames_total{reason="owner_mismatch"}`], "3")
	td.Cmp(t, m[`earshot_record_conversations_finished_total{result="error"}`], "1")
}

func TestTwoConversationsOnOneConnection(t *testing.T) {
	r := newRig(t, "", record.Config{})
	c := r.dial(t, "u", 16000)
	c.conversation("a")
	c.audio(t0, ramp(1, 160))
	c.conversation("b")
	c.audio(t0+60, ramp(1000, 320))
	c.segments("a", `{"id":"late"}`) // the previous conversation's last batch
	c.segments("", `{"id":"b1"}`)
	c.barrier()
	td.Cmp(t, r.rec.InUse(), 1) // "a" was released by the second 103
	td.Cmp(t, c.process("a", "en"), pusher.Result{ConversationID: "a", Success: true})
	td.Cmp(t, c.process("b", "en"), pusher.Result{ConversationID: "b", Success: true})

	ids, err := record.Finished(r.dir)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, ids, []string{"a", "b"})
	a, err := record.ReadConversation(r.dir, "a")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, a.Samples, ramp(1, 160))
	td.Cmp(t, a.Meta.StartUnix, t0)
	td.Cmp(t, a.Segments, []json.RawMessage{json.RawMessage(`{"id":"late"}`)})
	b, err := record.ReadConversation(r.dir, "b")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, b.Samples, ramp(1000, 320))
	td.Cmp(t, b.Meta.StartUnix, t0+60)
	td.Cmp(t, b.Segments, []json.RawMessage{json.RawMessage(`{"id":"b1"}`)})

	c.c.CloseNow()
	r.close() // waits for the connection's goroutine
	td.Cmp(t, r.rec.InUse(), 0)
}

// Conversations a connection only touches (segments for a conversation
// that is not its current one) keep no files open.
func TestOpenFilesStayBounded(t *testing.T) {
	fds := func() int {
		entries, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip("no /proc/self/fd:", err)
		}
		return len(entries)
	}
	r := newRig(t, "", record.Config{})
	c := r.dial(t, "u", 16000)
	c.conversation("current")
	c.audio(t0, ramp(1, 16))
	c.barrier()
	before := fds()
	for i := range 200 {
		c.segments(fmt.Sprintf("other-%d", i), `{"id":"s"}`)
	}
	c.barrier()
	td.Cmp(t, r.rec.InUse(), 1)
	td.Cmp(t, fds(), td.Lt(before+10))
	conv, err := os.ReadFile(filepath.Join(r.dir, ".staging", "other-199", "segments.jsonl"))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, string(conv), `{"id":"s"}`+"\n")
}
