package fanout_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/fanout"
	"earshot/stages/stagestest"
)

// runFanout starts a fan-out stage on in and assign with one sink; done
// yields Run's result. Call it inside a synctest bubble.
func runFanout(in <-chan stages.Update, assign <-chan stages.SpeakerAssignment) (sink *fanout.Outbox[stages.Message], set *metrics.Set, done <-chan error) {
	set = metrics.NewSet()
	f := fanout.New(fanout.Config{}, fanout.Deps{Provider: "fake", Metrics: fanout.NewMetrics(set)})
	sink = fanout.NewOutbox[stages.Message]("test", 16, fanout.Disconnect, nil)
	errs := make(chan error, 1)
	go func() { errs <- f.Run(context.Background(), in, assign, []fanout.Sink{sink}) }()
	return sink, set, errs
}

// recv returns the sink's next message other than a conversation's
// start or end (conversation_test.go has those) (fake time: the flush
// timer fires while it waits).
func recv(t *testing.T, sink *fanout.Outbox[stages.Message]) stages.Message {
	t.Helper()
	for {
		m, ok, closed := sink.Pop()
		if ok && m.Conversation != nil {
			continue
		}
		if ok {
			return m
		}
		if closed {
			t.Fatal("sink closed")
		}
		stagestest.Next(t, sink.Ready())
	}
}

// quiet checks that the sink holds nothing once every goroutine of the
// bubble is idle, flush timer included.
func quiet(t *testing.T, sink *fanout.Outbox[stages.Message]) {
	t.Helper()
	time.Sleep(time.Second) // past any flush
	synctest.Wait()
	m, ok, _ := sink.Pop()
	for ok && m.Conversation != nil {
		m, ok, _ = sink.Pop()
	}
	td.CmpFalse(t, ok, "no message expected, got %+v", m)
}

func result(runs ...[]stages.Word) stages.Update {
	return stages.Update{Kind: stages.EventResult, Result: stagestest.Final(runs...)}
}

// TestFanoutAssign: an assignment re-sends the speaker's segment with the
// same ID and the person; closing assign does not end Run, and later
// segments of that speaker still carry the person; Run ends when in
// closes.
func TestFanoutAssign(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan stages.Update)
		assign := make(chan stages.SpeakerAssignment)
		sink, set, done := runFanout(in, assign)

		in <- result(stagestest.Say(1, 0, 1, "Hi."), stagestest.Say(0, 1.2, 2, "Hello."))
		first := recv(t, sink)
		td.Cmp(t, first.Segments, td.Len(2))
		td.CmpNil(t, first.Segments[0].PersonID)
		id := first.Segments[0].ID

		assign <- stages.SpeakerAssignment{SpeakerID: 1, PersonID: "p-ann"}
		m := recv(t, sink)
		td.Cmp(t, m, td.Struct(stages.Message{}, td.StructFields{
			"Segments": td.Bag(td.Struct(stages.Segment{}, td.StructFields{
				"ID": id, "Text": "Hi.", "SpeakerID": 1, "PersonID": td.Ptr("p-ann"),
			})),
			"Deleted": td.Nil(),
			"Event":   stages.EventKind(0),
		}))
		td.Cmp(t, stagestest.MetricValue(t, set, "earshot_speaker_assignments_total"), 1.0)
		td.Cmp(t, stagestest.MetricValue(t, set, "earshot_segment_updates_total"), 3.0)

		close(assign)
		quiet(t, sink)
		select {
		case err := <-done:
			t.Fatalf("Run returned %v after assign closed", err)
		default:
		}

		in <- result(stagestest.Say(1, 10, 11, "Bye."))
		m = recv(t, sink)
		td.Cmp(t, m.Segments, td.Bag(td.Struct(stages.Segment{}, td.StructFields{
			"ID": td.Not(id), "Text": "Bye.", "PersonID": td.Ptr("p-ann"),
		})))

		close(in)
		td.CmpNil(t, stagestest.Next(t, done))
		m, ok, _ := sink.Pop()
		td.Cmp(t, m.Conversation, td.Struct(&stages.Conversation{Change: stages.ConversationEnded}), "the conversation ends with the session")
		td.CmpTrue(t, ok)
		_, _, closed := sink.Pop()
		td.CmpTrue(t, closed, "Run closed the sink")
	})
}

// TestFanoutAssignFlushesFirst: an assignment while segments are buffered
// flushes them first (they get their IDs, without the person), then sends
// them again with it; an assignment that changes nothing sends nothing.
func TestFanoutAssignFlushesFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan stages.Update)
		assign := make(chan stages.SpeakerAssignment)
		sink, _, done := runFanout(in, assign)

		in <- result(stagestest.Say(2, 0, 1, "Hello."))
		assign <- stages.SpeakerAssignment{SpeakerID: 2, PersonID: "p-bob"}
		start := time.Now()
		first := recv(t, sink)
		td.Cmp(t, time.Since(start), time.Duration(0), "not waiting for the flush timer")
		td.Cmp(t, first.Segments, td.Len(1))
		td.CmpNil(t, first.Segments[0].PersonID)
		second := recv(t, sink)
		td.Cmp(t, second.Segments, td.Len(1))
		td.Cmp(t, second.Segments[0].ID, first.Segments[0].ID)
		td.Cmp(t, second.Segments[0].PersonID, td.Ptr("p-bob"))

		assign <- stages.SpeakerAssignment{SpeakerID: 2, PersonID: "p-bob"}
		quiet(t, sink)

		close(in) // assign stays open: Run returns all the same
		td.CmpNil(t, stagestest.Next(t, done))
	})
}

// TestFanoutAssignAfterFailed: no message follows EventFailed, an
// assignment's neither; the assignment is still received.
func TestFanoutAssignAfterFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan stages.Update)
		assign := make(chan stages.SpeakerAssignment)
		sink, _, done := runFanout(in, assign)

		in <- result(stagestest.Say(0, 0, 1, "Hello."))
		in <- stages.Update{Kind: stages.EventFailed, Failure: stages.FailurePermanent}
		td.Cmp(t, recv(t, sink).Segments, td.Len(1))
		td.Cmp(t, recv(t, sink).Event, stages.EventFailed)
		assign <- stages.SpeakerAssignment{SpeakerID: 0, PersonID: "p-ann"} // does not block
		quiet(t, sink)
		close(in)
		td.CmpNil(t, stagestest.Next(t, done))
	})
}
