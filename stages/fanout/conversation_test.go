package fanout_test

import (
	"context"

	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/fanout"
	"earshot/stages/stagestest"
)

// convRun starts a fan-out with the conversation timeout timeoutSec and
// a capture clock the test sets (seconds); it returns the sink and Run's
// result. Call it inside a synctest bubble.
func convRun(timeoutSec int, capture *atomic.Int64, in <-chan stages.Update) (*fanout.Outbox[stages.Message], <-chan error) {
	var captureSec func() float64
	if capture != nil {
		captureSec = func() float64 { return float64(capture.Load()) }
	}
	f := fanout.New(fanout.Config{ConversationTimeoutSec: timeoutSec}, fanout.Deps{
		Provider: "fake", Metrics: fanout.NewMetrics(metrics.NewSet()), CaptureSec: captureSec,
	})
	sink := fanout.NewOutbox[stages.Message]("test", 64, fanout.Disconnect, nil)
	done := make(chan error, 1)
	go func() { done <- f.Run(context.Background(), in, nil, []fanout.Sink{sink}) }()
	return sink, done
}

// settle returns what the sink holds once the bubble is idle past every
// timer.
func settle(t *testing.T, sink *fanout.Outbox[stages.Message]) []stages.Message {
	t.Helper()
	time.Sleep(2 * time.Second)
	synctest.Wait()
	var got []stages.Message
	for {
		m, ok, _ := sink.Pop()
		if !ok {
			return got
		}
		got = append(got, m)
	}
}

func started(startSec float64) td.TestDeep {
	return td.Struct(stages.Message{}, td.StructFields{
		"Conversation": td.Struct(&stages.Conversation{Change: stages.ConversationStarted, StartSec: startSec}, td.StructFields{"ID": td.NotEmpty()}),
	})
}

func ended(startSec, endSec float64, segments int) td.TestDeep {
	return td.Struct(stages.Message{}, td.StructFields{
		"Conversation": td.Struct(&stages.Conversation{Change: stages.ConversationEnded, StartSec: startSec, EndSec: endSec, Segments: segments},
			td.StructFields{"ID": td.NotEmpty()}),
	})
}

// TestConversationSplitBySpeechAfterTheTimeout: speech 200 s after the
// last word ends the conversation at last word + 120 s and starts a new
// one, whose segments count from its own first speech and carry its id;
// the input closing ends the last one where the audio ended.
func TestConversationSplitBySpeechAfterTheTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan stages.Update)
		var capture atomic.Int64
		sink, done := convRun(0, &capture, in)
		in <- result(stagestest.Say(0, 2, 3, "Hello there."))
		capture.Store(100) // under the timeout: the check finds nothing
		got := settle(t, sink)
		td.Cmp(t, got, td.Len(2))
		in <- result(stagestest.Say(0, 200, 201.5, "Back again."))
		capture.Store(205)
		close(in)
		td.CmpNoError(t, <-done)
		got = append(got, settle(t, sink)...)
		td.Cmp(t, got, td.Slice([]stages.Message{}, td.ArrayEntries{
			0: started(2),
			1: td.Smuggle("Segments", td.Bag(td.Struct(stages.Segment{Text: "Hello there.", Start: 0, End: 1}, td.StructFields{"ID": td.NotEmpty()}))),
			2: ended(2, 123, 1),
			3: started(200),
			4: td.Smuggle("Segments", td.Bag(td.Struct(stages.Segment{Text: "Back again.", Start: 0, End: 1.5}, td.StructFields{"ID": td.NotEmpty()}))),
			5: ended(200, 205, 1),
		}))
		td.Cmp(t, got[1].ConversationID, got[0].Conversation.ID)
		td.Cmp(t, got[2].Conversation.ID, got[0].Conversation.ID)
		td.Cmp(t, got[4].ConversationID, got[3].Conversation.ID)
		td.Cmp(t, got[3].Conversation.ID, td.Not(got[0].Conversation.ID))
	})
}

// TestConversationEndsOnTheCaptureClock: with no more speech, the check
// ends the conversation once the capture clock passes last word + the
// timeout, but not while an upstream is degraded (its words may still
// come from the replay); after that, nothing is left to end at close.
func TestConversationEndsOnTheCaptureClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan stages.Update)
		var capture atomic.Int64
		sink, done := convRun(0, &capture, in)
		in <- result(stagestest.Say(0, 0, 1, "Hi."))
		td.Cmp(t, settle(t, sink), td.Len(2))
		in <- stages.Update{Kind: stages.EventDegraded, Provider: "fake", Reason: "down"}
		capture.Store(500)
		td.Cmp(t, settle(t, sink), td.Slice([]stages.Message{}, td.ArrayEntries{
			0: td.Smuggle("Event", stages.EventDegraded),
		}), "no end while degraded")
		in <- stages.Update{Kind: stages.EventRecovered, Provider: "fake"}
		td.Cmp(t, settle(t, sink), td.Slice([]stages.Message{}, td.ArrayEntries{
			0: td.Smuggle("Event", stages.EventRecovered),
			1: ended(0, 121, 1),
		}))
		close(in)
		td.CmpNoError(t, <-done)
		td.Cmp(t, settle(t, sink), td.Len(0), "no conversation open at the end")
	})
}

// TestConversationTimeoutValues: values under 120 s are raised to 120,
// and -1 means 4 hours.
func TestConversationTimeoutValues(t *testing.T) {
	for _, tc := range []struct {
		timeout   int
		gapSec    float64
		splitting bool
	}{
		{timeout: 30, gapSec: 100, splitting: false},
		{timeout: 30, gapSec: 121, splitting: true},
		{timeout: 300, gapSec: 250, splitting: false},
		{timeout: -1, gapSec: 3 * 3600, splitting: false},
		{timeout: -1, gapSec: 4*3600 + 1, splitting: true},
	} {
		synctest.Test(t, func(t *testing.T) {
			in := make(chan stages.Update)
			sink, done := convRun(tc.timeout, nil, in)
			in <- result(stagestest.Say(0, 0, 1, "One."))
			in <- result(stagestest.Say(0, 1+tc.gapSec, 2+tc.gapSec, "Two."))
			close(in)
			td.CmpNoError(t, <-done)
			n := 0
			for _, m := range settle(t, sink) {
				if m.Conversation != nil && m.Conversation.Change == stages.ConversationStarted {
					n++
				}
			}
			td.Cmp(t, n == 2, tc.splitting, "timeout %d, gap %g s: %d conversations", tc.timeout, tc.gapSec, n)
		})
	}
}

// TestConversationEndsBeforeFailed: when the upstream fails for good the
// conversation's end comes before EventFailed, the last message.
func TestConversationEndsBeforeFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan stages.Update)
		var capture atomic.Int64
		sink, done := convRun(0, &capture, in)
		in <- result(stagestest.Say(0, 0, 1, "Hello."))
		capture.Store(3)
		in <- stages.Update{Kind: stages.EventFailed, Failure: stages.FailureUnavailable}
		close(in)
		td.CmpNoError(t, <-done)
		td.Cmp(t, settle(t, sink), td.Slice([]stages.Message{}, td.ArrayEntries{
			0: started(0),
			1: td.Smuggle("Segments", td.Len(1)),
			2: ended(0, 3, 1),
			3: td.Smuggle("Event", stages.EventFailed),
		}))
	})
}
