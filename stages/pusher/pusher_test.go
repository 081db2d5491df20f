package pusher_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	wire "earshot/protocol/pusher"
	"earshot/stages"
	"earshot/stages/pusher"
	"earshot/stages/stagestest"
)

// waitFor polls cond (a state owned by another goroutine) for up to a
// minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute", what)
		}
		<-tick.C
	}
}

// TestPusherDeliversAConversation: 103 before the audio, the audio from
// the conversation's start to its end with its unix times, one 102 with
// the segments and the conversation id, then the 104; the 201 answers it
// and the session's goroutine ends after Close.
func TestPusherDeliversAConversation(t *testing.T) {
	f := newFakePusher(t)
	p, set := newPusher(t, quickConfig(f.url()))
	s := p.Session(pusher.SessionParams{UID: "u1", SampleRateHz: 16000, Language: "en", ConversationTimeoutSec: 120, ID: "t"})
	before := float64(time.Now().UnixNano()) / 1e9
	conversation(s, "c-1", 0.5, 2)
	s.Close()
	got := f.until(t, wire.KindProcess)
	var kinds []wire.Kind
	samples := 0
	var first float64
	for _, fr := range got {
		if fr.kind == wire.KindHeartbeat {
			continue
		}
		kinds = append(kinds, fr.kind)
		if fr.kind == wire.KindAudio {
			ts, pcm, err := wire.ParseAudio(fr.payload)
			td.CmpNoError(t, err)
			if samples == 0 {
				first = ts
			}
			samples += len(pcm) / 2
		}
	}
	td.Cmp(t, kinds[0], wire.KindConversation)
	td.Cmp(t, string(got[0].payload), "c-1")
	td.Cmp(t, kinds[len(kinds)-2:], []wire.Kind{wire.KindSegments, wire.KindProcess})
	td.Cmp(t, samples, 24000, "1.5 s of audio: from 0.5 s to 2 s")
	td.Cmp(t, first, td.Between(before+0.5-0.1, before+0.5+1))
	var segs struct {
		Segments []stages.Segment `json:"segments"`
		MemoryID string           `json:"memory_id"`
	}
	td.CmpNoError(t, json.Unmarshal(got[len(got)-2].payload, &segs))
	td.Cmp(t, segs.MemoryID, "c-1")
	td.Cmp(t, segs.Segments, td.Len(1))
	var req wire.Process
	td.CmpNoError(t, json.Unmarshal(got[len(got)-1].payload, &req))
	td.Cmp(t, req, wire.Process{ConversationID: "c-1", Language: "en"})
	waitFor(t, "answered", func() bool { return s.Stats().Answered == 1 })
	waitFor(t, "pending 0", func() bool { return stagestest.MetricValue(t, set, "earshot_pusher_pending_requests") == 0 })
	td.Cmp(t, stagestest.MetricValue(t, set, `earshot_pusher_requests_total{result="success"}`), 1.0)
	waitFor(t, "goroutine ended", func() bool { return stagestest.MetricValue(t, set, "earshot_pusher_lingering_sessions") == 0 })
}

// TestPusherDownAtStart: the pusher refuses every upgrade while the
// session runs and ends; the session degrades (never blocking Push or
// Audio), and once the pusher is up its pending request arrives and is
// answered.
func TestPusherDownAtStart(t *testing.T) {
	f := newFakePusher(t)
	f.down.Store(true)
	cfg := quickConfig(f.url())
	cfg.Reconnect.Attempts = 2
	p, set := newPusher(t, cfg)
	s := p.Session(pusher.SessionParams{UID: "u1", SampleRateHz: 16000, Language: "en", ConversationTimeoutSec: 120, ID: "t"})
	conversation(s, "c-down", 0, 1)
	s.Close()
	waitFor(t, "degraded", func() bool {
		return stagestest.MetricValue(t, set, `earshot_pusher_sessions{state="degraded"}`)+
			stagestest.MetricValue(t, set, `earshot_pusher_sessions{state="half_open_probe"}`) == 1
	})
	td.Cmp(t, stagestest.MetricValue(t, set, "earshot_pusher_pending_requests"), 1.0)
	f.down.Store(false)
	got := f.until(t, wire.KindProcess)
	td.Cmp(t, got[0].kind, wire.KindConversation)
	waitFor(t, "answered", func() bool { return s.Stats().Answered == 1 })
	td.Cmp(t, s.Stats().GivenUp, 0)
	td.Cmp(t, stagestest.MetricValue(t, set, `earshot_pusher_connects_total{result="ok"}`), 1.0)
}

// TestPusherResendsUntilAnswered: the first connection takes the 104
// without answering and dies; the request goes again on the next
// connection, which answers it.
func TestPusherResendsUntilAnswered(t *testing.T) {
	f := newFakePusher(t)
	f.answer = func(conn int) bool { return conn > 1 }
	p, _ := newPusher(t, quickConfig(f.url()))
	s := p.Session(pusher.SessionParams{UID: "u1", SampleRateHz: 16000, Language: "de", ConversationTimeoutSec: 120, ID: "t"})
	conversation(s, "c-again", 0, 0.5)
	first := f.until(t, wire.KindProcess)
	td.Cmp(t, first[len(first)-1].conn, 1)
	again := f.until(t, wire.KindProcess)
	td.Cmp(t, again[len(again)-1].conn, 2)
	var req wire.Process
	td.CmpNoError(t, json.Unmarshal(again[len(again)-1].payload, &req))
	td.Cmp(t, req, wire.Process{ConversationID: "c-again", Language: "de"})
	waitFor(t, "answered", func() bool { return s.Stats().Answered == 1 })
	s.Close()
}

// TestPusherLingerGivesUp: with the pusher down for good, a finished
// session's request is given up LingerMs after the session ended, and
// counted.
func TestPusherLingerGivesUp(t *testing.T) {
	f := newFakePusher(t)
	f.down.Store(true)
	cfg := quickConfig(f.url())
	cfg.LingerMs = 300
	p, set := newPusher(t, cfg)
	s := p.Session(pusher.SessionParams{UID: "u1", SampleRateHz: 16000, Language: "en", ConversationTimeoutSec: 120, ID: "t"})
	conversation(s, "c-lost", 0, 0.5)
	s.Close()
	waitFor(t, "given up", func() bool { return s.Stats().GivenUp == 1 })
	td.Cmp(t, stagestest.MetricValue(t, set, `earshot_pusher_requests_total{result="given_up"}`), 1.0)
	td.Cmp(t, stagestest.MetricValue(t, set, "earshot_pusher_pending_requests"), 0.0)
}

// TestPusherSlowReaderStaysWithinCaps: a pusher that takes a frame every
// 20 ms while the session produces audio and segments far faster: the
// buffers never hold more than their caps, and what they dropped is
// counted.
func TestPusherSlowReaderStaysWithinCaps(t *testing.T) {
	f := newFakePusher(t)
	f.readEvery = 20 * time.Millisecond
	cfg := quickConfig(f.url())
	cfg.AudioBufferBytes = 64 << 10
	cfg.SegmentBatches = 10
	cfg.MaxFrameBytes = 16 << 10
	p, set := newPusher(t, cfg)
	s := p.Session(pusher.SessionParams{UID: "u1", SampleRateHz: 16000, Language: "en", ConversationTimeoutSec: 120, ID: "t"})
	s.Push(stages.Message{Conversation: &stages.Conversation{Change: stages.ConversationStarted, ID: "c-slow"}, ConversationID: "c-slow"})
	for i := range int64(3000) { // 5 minutes of audio, 9.6 MB
		s.Audio(stages.Audio{PCM: pcm(1600, 2), Start: i * 1600, SampleRateHz: 16000})
		if i%10 == 0 {
			s.Push(stages.Message{ConversationID: "c-slow", Segments: []stages.Segment{{ID: "s", Text: "x", End: float64(i) / 10}}})
		}
	}
	st := s.Stats()
	td.Cmp(t, st.MaxAudioBytes, td.Lte(64<<10), "audio buffer within its cap")
	td.Cmp(t, st.DroppedAudioSamples, td.Gt(int64(0)))
	td.Cmp(t, st.DroppedSegments, td.Gt(int64(0)))
	td.Cmp(t, stagestest.MetricValue(t, set, "earshot_pusher_dropped_audio_seconds_total"), td.Gt(0.0))
	td.Cmp(t, stagestest.MetricValue(t, set, "earshot_pusher_dropped_segments_total"), float64(st.DroppedSegments))
	s.Close()
}

// TestPusherBreakerIsProcessWide: sessions of one process share the
// breaker: once the pusher's failures opened it, the other sessions stop
// dialing.
func TestPusherBreakerIsProcessWide(t *testing.T) {
	f := newFakePusher(t)
	f.down.Store(true)
	cfg := quickConfig(f.url())
	cfg.Breaker.FailureThreshold = 3
	cfg.Breaker.OpenMs, cfg.Breaker.FirstOpenMs = 60000, 60000
	cfg.Reconnect.Attempts = 4
	p, set := newPusher(t, cfg)
	for range 5 {
		s := p.Session(pusher.SessionParams{UID: "u", SampleRateHz: 16000, ConversationTimeoutSec: 120, ID: "t"})
		t.Cleanup(s.Close)
	}
	waitFor(t, "breaker open", func() bool { return stagestest.MetricValue(t, set, "earshot_pusher_breaker_state") == 1 })
	<-time.After(500 * time.Millisecond) // time for 5 sessions × 4 attempts at 10–40 ms
	// Without it 5 sessions × 4 attempts dial 20 times; with it, the
	// dials in flight when it opened at most (one per session).
	td.Cmp(t, int(f.dials.Load()), td.Between(3, 5), "the breaker stopped the dials")
	td.Cmp(t, stagestest.MetricValue(t, set, `earshot_pusher_sessions{state="connected"}`), 0.0)
}

// TestPusherSplitsAudioBetweenConversations: audio more than the
// conversation timeout past the last word waits (the conversation may
// be about to end there); the conversation's end cuts its audio there
// exactly; the audio until the next conversation's first word is not
// sent; the next conversation's audio follows its 103.
func TestPusherSplitsAudioBetweenConversations(t *testing.T) {
	f := newFakePusher(t)
	p, _ := newPusher(t, quickConfig(f.url()))
	s := p.Session(pusher.SessionParams{UID: "u1", SampleRateHz: 16000, Language: "en", ConversationTimeoutSec: 2, ID: "t"})
	audio := func(fromSec, toSec float64) {
		for i := int64(fromSec * 10); i < int64(toSec*10); i++ {
			s.Audio(stages.Audio{PCM: pcm(1600, byte(i)), Start: i * 1600, SampleRateHz: 16000})
		}
	}
	s.Push(stages.Message{Conversation: &stages.Conversation{Change: stages.ConversationStarted, ID: "a", StartSec: 0.5}, ConversationID: "a"})
	s.Push(stages.Message{ConversationID: "a", Segments: []stages.Segment{{ID: "s1", Text: "hi", Start: 0, End: 0.5}}})
	audio(0, 10) // the last word ended at 1 s: audio from 3 s on waits
	got := f.until(t, wire.KindSegments)
	samples := 0
	for _, fr := range got {
		if fr.kind == wire.KindAudio {
			_, b, err := wire.ParseAudio(fr.payload)
			td.CmpNoError(t, err)
			samples += len(b) / 2
		}
	}
	td.Cmp(t, samples, td.Lte(40000), "no more than 0.5 s to 3 s yet")
	s.Push(stages.Message{Conversation: &stages.Conversation{Change: stages.ConversationEnded, ID: "a", StartSec: 0.5, EndSec: 3}, ConversationID: "a"})
	s.Push(stages.Message{Conversation: &stages.Conversation{Change: stages.ConversationStarted, ID: "b", StartSec: 8}, ConversationID: "b"})
	s.Push(stages.Message{ConversationID: "b", Segments: []stages.Segment{{ID: "s2", Text: "again", Start: 0, End: 0.5}}})
	s.Push(stages.Message{Conversation: &stages.Conversation{Change: stages.ConversationEnded, ID: "b", StartSec: 8, EndSec: 10}, ConversationID: "b"})
	s.Close()
	got = append(got, f.until(t, wire.KindProcess)...)
	got = append(got, f.until(t, wire.KindProcess)...)
	perConv := map[string][2]float64{} // first and one-past-last sample, in seconds
	conv := ""
	var order []string
	for _, fr := range got {
		switch fr.kind {
		case wire.KindConversation:
			conv = string(fr.payload)
			order = append(order, "103 "+conv)
		case wire.KindAudio:
			ts, b, err := wire.ParseAudio(fr.payload)
			td.CmpNoError(t, err)
			span, ok := perConv[conv]
			if !ok {
				span[0] = ts
			}
			span[1] = ts + float64(len(b)/2)/16000
			perConv[conv] = span
		case wire.KindProcess:
			var req wire.Process
			td.CmpNoError(t, json.Unmarshal(fr.payload, &req))
			order = append(order, "104 "+req.ConversationID)
		}
	}
	td.Cmp(t, order, []string{"103 a", "103 b", "104 a", "104 b"})
	td.Cmp(t, perConv["a"][1]-perConv["a"][0], td.N(2.5, 1e-6), "a: from 0.5 s to its end at 3 s")
	td.Cmp(t, perConv["b"][1]-perConv["b"][0], td.N(2.0, 1e-6), "b: from 8 s to 10 s")
	td.Cmp(t, perConv["b"][0]-perConv["a"][0], td.N(7.5, 1e-3), "on one timeline")
}

// TestPusherSpeakerSamples: an assignment that named a person sends the
// re-sent segments (102), then a 105 with the person, the conversation
// and the segments that now carry the person; one that clears a person
// sends the segments only.
func TestPusherSpeakerSamples(t *testing.T) {
	f := newFakePusher(t)
	p, _ := newPusher(t, quickConfig(f.url()))
	s := p.Session(pusher.SessionParams{UID: "u1", SampleRateHz: 16000, ConversationTimeoutSec: 120, ID: "t"})
	s.Push(stages.Message{Conversation: &stages.Conversation{Change: stages.ConversationStarted, ID: "c"}, ConversationID: "c"})
	ann := "p-ann"
	s.Push(stages.Message{ConversationID: "c", Assignment: &stages.SpeakerAssignment{SpeakerID: 1, PersonID: ann, SegmentIDs: []string{"x"}},
		Segments: []stages.Segment{{ID: "s1", SpeakerID: 1, PersonID: &ann}, {ID: "s2", SpeakerID: 0}}})
	got := f.until(t, wire.KindSpeakerSamples)
	td.Cmp(t, got[len(got)-2].kind, wire.KindSegments)
	td.Cmp(t, json.RawMessage(got[len(got)-1].payload), td.JSON(`{"person_id":"p-ann","conversation_id":"c","segment_ids":["s1"]}`))
	s.Push(stages.Message{ConversationID: "c", Assignment: &stages.SpeakerAssignment{SpeakerID: 1}, Segments: []stages.Segment{{ID: "s1", SpeakerID: 1}}})
	s.Push(stages.Message{Conversation: &stages.Conversation{Change: stages.ConversationEnded, ID: "c", EndSec: 1}, ConversationID: "c"})
	rest := f.until(t, wire.KindProcess)
	var kinds []wire.Kind
	for _, fr := range rest {
		if fr.kind != wire.KindHeartbeat {
			kinds = append(kinds, fr.kind)
		}
	}
	td.Cmp(t, kinds, []wire.Kind{wire.KindSegments, wire.KindProcess}, "no 105 for a cleared person")
	s.Close()
}

// TestPusherResendsWhatWasInFlight: a pusher that goes away while an
// audio frame is in flight gets it again, with its conversation id
// first, on the next connection (ResendMs), and the resend is counted.
func TestPusherResendsWhatWasInFlight(t *testing.T) {
	f := newFakePusher(t)
	f.dieAt = 3
	cfg := quickConfig(f.url())
	cfg.FlushIntervalMs = 1000 // one frame a second: 100 ms frames gather
	p, set := newPusher(t, cfg)
	s := p.Session(pusher.SessionParams{UID: "u1", SampleRateHz: 16000, ConversationTimeoutSec: 120, ID: "t"})
	s.Push(stages.Message{Conversation: &stages.Conversation{Change: stages.ConversationStarted, ID: "c"}, ConversationID: "c"})
	s.Push(stages.Message{ConversationID: "c", Segments: []stages.Segment{{ID: "s1", End: 100}}})
	for i := range int64(40) { // 4 s, in four flushes
		s.Audio(stages.Audio{PCM: pcm(1600, 3), Start: i * 1600, SampleRateHz: 16000})
		if i%10 == 9 {
			waitFor(t, "flushed", func() bool { return s.Stats().SentBytes > i*3200 })
		}
	}
	starts := map[float64]int{}
	deadline := time.After(time.Minute)
	for len(starts) < 4 {
		select {
		case fr := <-f.frames:
			if fr.kind == wire.KindAudio {
				ts, _, err := wire.ParseAudio(fr.payload)
				td.CmpNoError(t, err)
				starts[ts]++
			}
		case <-deadline:
			t.Fatalf("audio frames seen: %v", starts)
		}
	}
	td.Cmp(t, len(starts), 4, "every second of audio arrived, the one in flight included")
	td.Cmp(t, s.Stats().ResentBytes, td.Gt(int64(0)))
	td.Cmp(t, stagestest.MetricValue(t, set, "earshot_pusher_resent_bytes_total"), td.Gt(0.0))
	s.Close()
}
