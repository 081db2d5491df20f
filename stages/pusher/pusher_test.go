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
