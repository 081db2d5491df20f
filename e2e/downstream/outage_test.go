package downstream_test

import (
	"fmt"
	"slices"
	"sort"
	"sync"
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

// session runs one client session of testrig.Conversation (5 s, four
// words) at real-time pace, reads until it has its four words, and
// leaves normally. It returns the conversation ids the client was told
// of and the time from the first audio frame to the first segment.
func session(t *testing.T, url string) ([]string, time.Duration) {
	t.Helper()
	c := testrig.Dial(t, url+"?sample_rate=16000&codec=pcm16")
	c.ReadUntil(t, 30*time.Second, func(c *testrig.Client) bool { return slices.Contains(c.Statuses, protocol.StatusReady) })
	began := time.Now()
	errc := make(chan error, 1)
	go func() { errc <- c.Stream(testrig.Conversation(rate), rate, 100*time.Millisecond) }()
	var first time.Duration
	c.ReadUntil(t, time.Minute, func(c *testrig.Client) bool {
		if first == 0 && len(c.Transcript()) > 0 {
			first = time.Since(began)
		}
		words := 0
		for _, s := range c.Transcript() {
			words += countWords(s.Text)
		}
		return words == 4
	})
	td.CmpNoError(t, <-errc, "the client streamed every frame")
	td.Cmp(t, c.Statuses, []string{"initiating", "in_progress_conversations_processing", "stt_initiating", "ready"}, "no degraded status")
	td.CmpNoError(t, c.Conn.Close(websocket.StatusNormalClosure, ""))
	return c.Conversations, first
}

func countWords(s string) int {
	n := 0
	inWord := false
	for _, r := range s {
		switch {
		case r == ' ':
			inWord = false
		case !inWord:
			inWord = true
			n++
		}
	}
	return n
}

// TestPusherDownWhenTheSessionStarts: nothing listens at the pusher's
// address while a session runs: the client gets its transcript as usual
// and leaves; its conversation's request waits, and once the recorder
// comes up it arrives, is stored and answered.
func TestPusherDownWhenTheSessionStarts(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	set := metrics.NewSet()
	url := gateway(t, pipeline.Config{Pusher: pusherConfig(addr)}, set)
	convs, _ := session(t, url)
	td.Cmp(t, convs, td.Len(1))
	eventually(t, 10*time.Second, "the request waits", func() bool {
		return stagestest.MetricValue(t, set, "earshot_pusher_pending_requests") == 1
	})
	td.Cmp(t, stagestest.MetricValue(t, set, `earshot_pusher_connects_total{result="ok"}`), 0.0)

	startRecorder(t, addr, dir)
	eventually(t, time.Minute, "the conversation on disk", func() bool {
		ids, err := record.Finished(dir)
		return err == nil && slices.Equal(ids, convs)
	})
	eventually(t, 10*time.Second, "answered", func() bool {
		return stagestest.MetricValue(t, set, `earshot_pusher_requests_total{result="success"}`) == 1
	})
	td.Cmp(t, stagestest.MetricValue(t, set, "earshot_pusher_pending_requests"), 0.0)
	conv, err := record.ReadConversation(dir, convs[0])
	td.CmpNoError(t, err)
	td.Cmp(t, conv.Meta.DurationSec, td.Between(5-0.5-1.0, 5-0.5+1.0), "its audio from the first word to the end, buffered meanwhile")
	td.Cmp(t, lastBySegment(t, conv.Segments), td.Len(td.Gt(0)))
}

// TestRecorderRestartedUnderLoad: 20 clients run back-to-back sessions
// for 2 minutes while the recorder is restarted every 10 s (down for
// half a second each time). In the end every conversation a client was
// told of is on disk and answered, none given up; the audio dropped is
// counted and within the buffers' bound; no client session saw anything
// but its transcript and a normal end. First-segment latencies are
// logged, for sessions that overlapped a restart and those that did not.
func TestRecorderRestartedUnderLoad(t *testing.T) {
	const clients, runFor, every = 20, 2 * time.Minute, 10 * time.Second
	addr, dir := freeAddr(t), t.TempDir()
	set := metrics.NewSet()
	url := gateway(t, pipeline.Config{Pusher: pusherConfig(addr)}, set)

	rec := startRecorder(t, addr, dir)
	stop := make(chan struct{})
	var restarts []time.Time
	var restarted sync.WaitGroup
	restarted.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			rec.stop()
			restarts = append(restarts, time.Now())
			<-time.After(500 * time.Millisecond)
			rec = startRecorder(t, addr, dir)
		}
	})

	type run struct {
		convs        []string
		first        time.Duration
		began, ended time.Time
	}
	var mu sync.Mutex
	var runs []run
	var wg sync.WaitGroup
	deadline := time.Now().Add(runFor)
	for i := range clients {
		wg.Go(func() {
			<-time.After(time.Duration(i) * 150 * time.Millisecond) // staggered
			for time.Now().Before(deadline) {
				began := time.Now()
				convs, first := session(t, url)
				mu.Lock()
				runs = append(runs, run{convs, first, began, time.Now()})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(stop)
	restarted.Wait()

	var want []string
	var during, calm []time.Duration
	for _, r := range runs {
		td.Cmp(t, r.convs, td.Len(1), "one conversation per session")
		want = append(want, r.convs...)
		hit := false
		for _, at := range restarts {
			hit = hit || (!at.Before(r.began) && at.Before(r.ended))
		}
		if hit {
			during = append(during, r.first)
		} else {
			calm = append(calm, r.first)
		}
	}
	// Every conversation's request answered: the last sessions may still
	// be ending (their requests not made yet) when the clients are done,
	// so wait for as many answers as conversations, then for nothing
	// pending or lingering.
	eventually(t, 2*time.Minute, "every request answered", func() bool {
		return stagestest.MetricValue(t, set, `earshot_pusher_requests_total{result="success"}`) >= float64(len(want)) &&
			stagestest.MetricValue(t, set, "earshot_pusher_pending_requests") == 0 &&
			stagestest.MetricValue(t, set, "earshot_pusher_lingering_sessions") == 0
	})
	got, err := record.Finished(dir)
	td.CmpNoError(t, err)
	td.Cmp(t, got, td.Bag(anyOf(want)...), "every conversation on disk")
	td.Cmp(t, stagestest.MetricValue(t, set, `earshot_pusher_requests_total{result="given_up"}`), 0.0)
	td.Cmp(t, stagestest.MetricValue(t, set, `earshot_pusher_requests_total{result="success"}`), td.Gte(float64(len(want))))
	dropped := stagestest.MetricValue(t, set, "earshot_pusher_dropped_audio_seconds_total")
	// Each session buffers at most its AudioBufferBytes (10 MiB: 327 s
	// at 16 kHz), so what a session drops is under its own 5 s.
	td.Cmp(t, dropped, td.Lte(float64(len(runs))*5), "dropped audio bounded")
	// Audio in flight on a connection that a restart cut is lost (the
	// protocol has no acknowledgement for it); the recorder pads its
	// place with silence, so each WAV keeps its length.
	var gaps int64
	for _, id := range got {
		conv, err := record.ReadConversation(dir, id)
		td.Require(t).CmpNoError(err)
		gaps += conv.Meta.GapSamples
		td.Cmp(t, conv.Meta.DurationSec, td.Between(3.5, 5.5), "conversation %s: from its first word (0.5 s) to the session's end (5 s)", id)
	}
	t.Logf("%d sessions, %d restarts; dropped audio %.2f s; audio lost in flight and padded %.2f s; reconnects %v; first-segment latency: %s over a restart, %s otherwise",
		len(runs), len(restarts), dropped, float64(gaps)/rate, stagestest.MetricValue(t, set, `earshot_pusher_connects_total{result="lost"}`),
		summary(during), summary(calm))
}

func anyOf(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// summary is "n=…, p50 …, p95 …, max …" of ds.
func summary(ds []time.Duration) string {
	if len(ds) == 0 {
		return "n=0"
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	q := func(p float64) time.Duration {
		return ds[min(len(ds)-1, int(p*float64(len(ds))))].Round(time.Millisecond)
	}
	return fmt.Sprintf("n=%d p50 %v p95 %v max %v", len(ds), q(0.5), q(0.95), ds[len(ds)-1].Round(time.Millisecond))
}
