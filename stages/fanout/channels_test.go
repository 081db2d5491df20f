package fanout_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/fanout"
	"earshot/stages/stagestest"
)

// TestSegmenterScopesSpeakersPerStream: a later stream's diarization
// labels get ids of their own, so its speaker 0 never merges with the
// first stream's speaker 0; within a stream a label keeps its id.
func TestSegmenterScopesSpeakersPerStream(t *testing.T) {
	s := fanout.NewSegmenter(fanout.SegmenterConfig{}, "p", nil)
	first := stagestest.Final(stagestest.Say(0, 0, 1, "hello there"), stagestest.Say(1, 1.2, 2, "hi you"))
	first.Stream = 1
	s.Add(first)
	again := stagestest.Final(stagestest.Say(0, 2.5, 3, "and"), stagestest.Say(1, 3.2, 4, "so"))
	again.Stream = 2
	s.Add(again)
	more := stagestest.Final(stagestest.Say(0, 4.2, 5, "then"))
	more.Stream = 2
	s.Add(more)
	changed, _ := s.Flush()
	var got []string
	for _, seg := range changed {
		got = append(got, seg.Speaker+": "+seg.Text)
	}
	td.Cmp(t, got, []string{
		"SPEAKER_0: hello there", "SPEAKER_1: hi you",
		"SPEAKER_2: and", "SPEAKER_3: so", "SPEAKER_2: then",
	}, "stream 2's speakers 0 and 1 are the session's 2 and 3, and never merge with stream 1's")
}

// TestSegmenterChannelsAreSpeakers: in a multi-channel session the
// channel is the speaker, whatever the diarization said: channel 1 is the
// user, SPEAKER_00; channel 2 SPEAKER_01, on every stream.
func TestSegmenterChannelsAreSpeakers(t *testing.T) {
	s := fanout.NewSegmenter(fanout.SegmenterConfig{}, "p", nil)
	mic := stagestest.Final(stagestest.Say(3, 0, 1, "Hello."))
	mic.Stream = 2
	s.AddChannel(1, mic)
	s.AddChannel(2, stagestest.Final(stagestest.Say(0, 1.5, 2, "Hi."), stagestest.Say(1, 2, 2.5, "Yes.")))
	changed, _ := s.Flush()
	seg := func(text, speaker string, id int, user bool, start, end float64) any {
		return td.SStruct(stages.Segment{Text: text, Speaker: speaker, SpeakerID: id, IsUser: user, Start: start, End: end},
			td.StructFields{"ID": td.NotEmpty(), "Translations": td.Empty(), "STTProvider": "p"})
	}
	td.Cmp(t, changed, td.Slice([]stages.Segment{}, td.ArrayEntries{
		0: seg("Hello.", "SPEAKER_00", 0, true, 0, 1),
		1: seg("Hi. Yes.", "SPEAKER_01", 1, false, 1.5, 2.5),
	}))
}

// TestFanoutFoldsChannelStates: one stt_initiating and one ready for the
// session; a channel's degraded and recovered name it; a channel failing
// for good degrades the session while the other works, and the last one
// failing fails it.
func TestFanoutFoldsChannelStates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fanout.New(fanout.Config{Channels: 2}, fanout.Deps{Provider: "fake", Metrics: fanout.NewMetrics(metrics.NewSet())})
		sink := fanout.NewOutbox[stages.Message]("test", 32, fanout.Disconnect, nil)
		in := make(chan stages.Update, 16)
		done := make(chan error, 1)
		go func() { done <- f.Run(context.Background(), in, nil, []fanout.Sink{sink}) }()
		state := func(k stages.EventKind, ch int) stages.Update {
			return stages.Update{Kind: k, Channel: ch, Provider: "fake", Reason: "r"}
		}
		for _, u := range []stages.Update{
			state(stages.EventConnecting, 1), state(stages.EventConnecting, 2),
			state(stages.EventConnected, 2), state(stages.EventConnected, 1),
			state(stages.EventDegraded, 2), state(stages.EventRecovered, 2),
			{Kind: stages.EventFailed, Channel: 1, Provider: "fake", Reason: "r", Failure: stages.FailurePermanent},
			{Kind: stages.EventResult, Channel: 2, Result: stagestest.Final(stagestest.Say(0, 0, 1, "Still here."))},
			{Kind: stages.EventFailed, Channel: 2, Provider: "fake", Reason: "r2", Failure: stages.FailureUnavailable},
		} {
			in <- u
		}
		close(in)
		td.CmpNoError(t, <-done)
		var got []stages.Message
		for {
			m, ok, _ := sink.Pop()
			if !ok {
				break
			}
			if m.Conversation == nil {
				got = append(got, m)
			}
		}
		ev := func(k stages.EventKind, ch int, reason string, f stages.Failure) stages.Message {
			return stages.Message{Event: k, Channel: ch, Provider: "fake", Reason: reason, Failure: f}
		}
		td.Cmp(t, got, td.Slice([]stages.Message{}, td.ArrayEntries{
			0: ev(stages.EventConnecting, 1, "r", 0),
			1: ev(stages.EventConnected, 0, "r", 0),
			2: ev(stages.EventDegraded, 2, "r", 0),
			3: ev(stages.EventRecovered, 2, "r", 0),
			4: ev(stages.EventDegraded, 1, "failed: r", 0),
			5: td.Smuggle("Segments", td.Len(1)),
			6: ev(stages.EventFailed, 2, "r2", stages.FailureUnavailable),
		}))
	})
}

// TestSegmenterOriginIsTheEarliestWord: results of two channels that
// arrive out of capture order before the first Flush keep their times:
// time 0 is the earliest word, not the first added.
func TestSegmenterOriginIsTheEarliestWord(t *testing.T) {
	s := fanout.NewSegmenter(fanout.SegmenterConfig{}, "p", nil)
	s.AddChannel(2, stagestest.Final(stagestest.Say(0, 2, 2.5, "Later.")))
	s.AddChannel(1, stagestest.Final(stagestest.Say(0, 1, 1.5, "Earlier.")))
	changed, _ := s.Flush()
	td.Require(t).Len(changed, 2)
	td.Cmp(t, []float64{changed[0].Start, changed[0].End, changed[1].Start, changed[1].End}, []float64{0, 0.5, 1, 1.5})
	td.Cmp(t, []string{changed[0].Text, changed[1].Text}, []string{"Earlier.", "Later."})
}

// TestFanoutSpeechProfileSession: the main socket's speaker 0 is the
// user on every stream, its segments speech-profile processed once the
// prefix is done; the temporary socket's speakers are their own (none the
// user, speaker 0 included); only the main socket's states reach the sinks.
func TestFanoutSpeechProfileSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fanout.New(fanout.Config{Profile: true}, fanout.Deps{Provider: "fake", Metrics: fanout.NewMetrics(metrics.NewSet())})
		sink := fanout.NewOutbox[stages.Message]("test", 32, fanout.Disconnect, nil)
		in := make(chan stages.Update, 16)
		done := make(chan error, 1)
		go func() { done <- f.Run(context.Background(), in, nil, []fanout.Sink{sink}) }()
		res := func(stream int, words ...[]stages.Word) stages.Result {
			r := stagestest.Final(words...)
			r.Stream = stream
			return r
		}
		for _, u := range []stages.Update{
			{Kind: stages.EventConnected, Provider: "fake", Temporary: true},
			{Kind: stages.EventConnected, Provider: "fake"},
			{Kind: stages.EventResult, Temporary: true, Result: res(1, stagestest.Say(0, 0, 1, "Early words."))},
			{Kind: stages.EventPrefixDone, Provider: "fake"},
			{Kind: stages.EventResult, Result: res(1, stagestest.Say(0, 4, 5, "Mine now."), stagestest.Say(1, 5.5, 6, "Yours."))},
			{Kind: stages.EventResult, Result: res(2, stagestest.Say(0, 9, 10, "Still mine."))},
			{Kind: stages.EventFailed, Provider: "fake", Temporary: true, Reason: "gone"},
		} {
			in <- u
		}
		close(in)
		td.CmpNoError(t, <-done)
		var events []stages.EventKind
		var segs []stages.Segment
		for {
			m, ok, _ := sink.Pop()
			if !ok {
				break
			}
			if m.Event != 0 {
				events = append(events, m.Event)
			}
			segs = append(segs, m.Segments...)
		}
		td.Cmp(t, events, []stages.EventKind{stages.EventConnected}, "one ready, from the main socket; the temporary socket's failure is its own")
		seg := func(text, speaker string, user, profiled bool) any {
			return td.Struct(stages.Segment{Text: text, Speaker: speaker, IsUser: user, SpeechProfileProcessed: profiled}, nil)
		}
		td.Cmp(t, segs, td.Slice([]stages.Segment{}, td.ArrayEntries{
			0: seg("Early words.", "SPEAKER_1", false, false),
			1: seg("Mine now.", "SPEAKER_0", true, true),
			2: seg("Yours.", "SPEAKER_2", false, true),
			3: seg("Still mine.", "SPEAKER_0", true, true),
		}))
	})
}
