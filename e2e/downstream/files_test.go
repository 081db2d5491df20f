package downstream_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/protocol"
	"earshot/record"
	"earshot/stages/stagestest"
)

const rate = 16000

// lastBySegment collapses a conversation's segment lines, later lines
// with an id superseding earlier ones, into id → segment.
func lastBySegment(t *testing.T, lines []json.RawMessage) map[string]protocol.Segment {
	t.Helper()
	out := map[string]protocol.Segment{}
	for _, l := range lines {
		var s protocol.Segment
		td.Require(t).CmpNoError(json.Unmarshal(l, &s))
		out[s.ID] = s
	}
	return out
}

// TestConversationFilesOnTheRecorder: one session streamed faster than
// real time whose speech pauses for 125 s (on the capture clock: the
// audio takes well under a second to send) is two conversations: the
// client is told of both, and the recorder holds two directories, each
// WAV as long as its conversation within one flush interval (1 s) and
// each JSONL the segments the client got for it.
func TestConversationFilesOnTheRecorder(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	startRecorder(t, addr, dir)
	set := metrics.NewSet()
	url := gateway(t, pipeline.Config{MaxPace: -1, Pusher: pusherConfig(addr)}, set)

	const totalMs = 132_000
	pcm := testrig.Signal(rate, totalMs,
		testrig.Burst{StartMs: 500, EndMs: 800, Amplitude: 8000},
		testrig.Burst{StartMs: 2000, EndMs: 2400, Amplitude: 20000},
		// 125 s of silence
		testrig.Burst{StartMs: 127_400, EndMs: 127_800, Amplitude: 8000},
		testrig.Burst{StartMs: 129_000, EndMs: 129_300, Amplitude: 20000},
	)
	c := testrig.Dial(t, url+"?sample_rate=16000&codec=pcm16")
	c.ReadUntil(t, 30*time.Second, func(c *testrig.Client) bool { return slices.Contains(c.Statuses, protocol.StatusReady) })
	go func() { _ = c.Stream(pcm, rate, 0) }()
	c.ReadUntil(t, time.Minute, func(c *testrig.Client) bool { return len(c.Conversations) == 2 && len(c.Transcript()) == 4 })
	td.Cmp(t, c.Processing, c.Conversations[:1], "the first conversation ended and is being processed")
	td.CmpNoError(t, c.Conn.Close(websocket.StatusNormalClosure, ""))

	eventually(t, time.Minute, "both conversations on disk", func() bool {
		ids, err := record.Finished(dir)
		return err == nil && len(ids) == 2
	})
	ids, err := record.Finished(dir)
	td.CmpNoError(t, err)
	td.Cmp(t, ids, td.Bag(c.Conversations[0], c.Conversations[1]))
	eventually(t, 10*time.Second, "answered", func() bool {
		return stagestest.MetricValue(t, set, `earshot_pusher_requests_total{result="success"}`) == 2
	})
	td.Cmp(t, stagestest.MetricValue(t, set, "earshot_pusher_pending_requests"), 0.0)
	td.Cmp(t, stagestest.MetricValue(t, set, "earshot_pusher_dropped_audio_seconds_total"), 0.0)

	// The first conversation: its first word at 0.5 s to its last word
	// (2.4 s) plus the 120 s timeout; the second from its first word
	// (127.4 s) to the end of the audio (132 s), where the client left.
	want := map[string]float64{c.Conversations[0]: 2.4 + 120 - 0.5, c.Conversations[1]: 132 - 127.4}
	for _, id := range c.Conversations {
		conv, err := record.ReadConversation(dir, id)
		td.Require(t).CmpNoError(err)
		td.Cmp(t, conv.Meta.SampleRate, rate)
		td.Cmp(t, conv.Meta.DurationSec, td.Between(want[id]-1, want[id]+1), "conversation %s's audio", id)
		td.Cmp(t, conv.Meta.GapSamples, int64(0), "no audio missing")
		td.CmpTrue(t, holds(samplesOf(pcm), conv.Samples), "conversation %s's WAV is the session's audio from its first word", id)
		got := lastBySegment(t, conv.Segments)
		var sent []protocol.Segment
		for _, s := range c.Transcript() {
			if c.ConversationOf[s.ID] == id {
				sent = append(sent, s)
			}
		}
		td.Cmp(t, sent, td.Len(2))
		for _, s := range sent {
			td.Cmp(t, got[s.ID], s, "segment %s as the client has it", s.ID)
		}
		td.Cmp(t, got, td.Len(len(sent)), "and nothing else")
	}
}

// samplesOf reads PCM16 little-endian.
func samplesOf(pcm []byte) []int16 {
	out := make([]int16, len(pcm)/2)
	for i := range out {
		out[i] = int16(uint16(pcm[2*i]) | uint16(pcm[2*i+1])<<8)
	}
	return out
}

// holds reports whether wav is a contiguous stretch of session, looked
// for where its first 300 ms of sound are (the bursts repeat: every
// place).
func holds(session, wav []int16) bool {
	const probe = rate * 3 / 10
	i0 := slices.IndexFunc(wav, func(v int16) bool { return v != 0 })
	if i0 < 0 || i0+probe > len(wav) {
		return false
	}
	for at := i0; at+probe <= len(session); at++ {
		if slices.Equal(session[at:at+probe], wav[i0:i0+probe]) {
			if off := at - i0; off >= 0 && off+len(wav) <= len(session) && slices.Equal(session[off:off+len(wav)], wav) {
				return true
			}
		}
	}
	return false
}
