package emulate_test

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
)

// The tests in this file run Soniox streams over the in-memory pipe
// network inside a synctest bubble: every timeout is checked to the exact
// fake millisecond without real sleeps. Their I/O uses t.Context(), not
// testCtx, whose 20 s would expire on fake time; a hang is a deadlock that
// the bubble reports.

// outcome is how a stream's reading ended, and when.
type outcome struct {
	rs  []response
	err error
	at  time.Time
}

// readInBackground reads c until it ends; the outcome arrives on the
// channel (after which the connection is closed).
func readInBackground(t *testing.T, ctx context.Context, c *websocket.Conn) <-chan outcome {
	out := make(chan outcome, 1)
	go func() {
		rs, err := readSoniox(t, ctx, c)
		out <- outcome{rs, err, time.Now()}
	}()
	return out
}

// checkIdleClose checks a stream ended by the idle timeout: one error
// response 408, then close 1000.
func checkIdleClose(t *testing.T, o outcome) {
	t.Helper()
	td.Cmp(t, websocket.CloseStatus(o.err), websocket.StatusNormalClosure)
	td.Require(t).Cmp(o.rs, td.Len(1))
	td.Cmp(t, o.rs[0].Raw, td.JSON(`{"error_code": 408, "error_message": Re("^Request timeout"), "request_id": NotEmpty()}`))
}

// TestSonioxSynctestKeepAlive: keepalives every 15 s keep a stream with no
// audio open for a minute (past Deepgram's 10 s and Soniox's 20 s); 20 s
// after the last one it is closed with error 408.
func TestSonioxSynctestKeepAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newSonioxPipeHarness(t, emulate.Config{})
		ctx := t.Context()
		c := h.startSoniox(t, ctx, stdStart)
		read := readInBackground(t, ctx, c)
		for range 4 {
			time.Sleep(15 * time.Second)
			synctest.Wait()
			select {
			case o := <-read:
				t.Fatalf("stream ended while kept alive: %v", o.err)
			default:
			}
			sendText(t, ctx, c, `{"type": "keepalive"}`)
		}
		last := time.Now()
		o := <-read
		td.Cmp(t, o.at.Sub(last), 20*time.Second, "closed DefaultSonioxIdleTimeoutMs after the last keepalive")
		checkIdleClose(t, o)
		td.Cmp(t, h.summary(t), td.SStruct(emulate.StreamSummary{End: emulate.EndIdleTimeout, KeepAlives: 4},
			td.StructFields{"=*": td.Ignore()}))
	})
}

// TestSonioxSynctestIdle: with no keepalive a stream is closed after 20 s
// (also before its start message), or after IdleTimeoutMs when it is set.
func TestSonioxSynctestIdle(t *testing.T) {
	for _, tc := range []struct {
		name  string
		idle  int
		start bool
		after time.Duration
	}{
		{"default", 0, true, 20 * time.Second},
		{"default before the start message", 0, false, 20 * time.Second},
		{"explicit", 2500, true, 2500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newSonioxPipeHarness(t, emulate.Config{IdleTimeoutMs: tc.idle})
				ctx := t.Context()
				c, _, err := h.dialSoniox(ctx, testKey)
				td.Require(t).CmpNoError(err)
				defer c.CloseNow()
				if tc.start {
					sendText(t, ctx, c, stdStart)
					sendAudio(t, ctx, c, (&signal{}).silence(100).pcm, 3200)
				}
				last := time.Now()
				o := <-readInBackground(t, ctx, c)
				td.Cmp(t, o.at.Sub(last), tc.after)
				checkIdleClose(t, o)
				td.Cmp(t, h.summary(t).End, emulate.EndIdleTimeout)
			})
		})
	}
}

func TestSonioxSynctestDrop(t *testing.T) {
	for _, abrupt := range []bool{false, true} {
		t.Run(map[bool]string{false: "graceful", true: "abrupt"}[abrupt], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newSonioxPipeHarness(t, emulate.Config{Faults: emulate.Faults{DropAfterMs: 1500, DropAbrupt: abrupt}})
				ctx := t.Context()
				start := time.Now()
				c := h.startSoniox(t, ctx, stdStart)
				read := readInBackground(t, ctx, c)
				// Audio keeps coming until the drop; writes fail once the
				// stream is gone.
				for c.Write(ctx, websocket.MessageBinary, make([]byte, 3200)) == nil {
					time.Sleep(100 * time.Millisecond)
				}
				o := <-read
				td.Cmp(t, o.at.Sub(start), 1500*time.Millisecond)
				if abrupt {
					td.CmpEmpty(t, o.rs)
					td.Cmp(t, websocket.CloseStatus(o.err), websocket.StatusCode(-1), "no close frame")
				} else {
					td.Cmp(t, websocket.CloseStatus(o.err), websocket.StatusNormalClosure)
					td.Require(t).Cmp(o.rs, td.Len(1))
					td.Cmp(t, o.rs[0].Raw, td.JSON(`{"error_code": 503, "error_message": $1, "request_id": NotEmpty()}`,
						emulate.SonioxDropMessage))
				}
				td.Cmp(t, h.summary(t).End, emulate.EndDropped)
			})
		})
	}
}

// TestSonioxSynctestDropStreams: only the first stream drops; the next
// one outlives DropAfterMs and ends when its client ends the audio.
func TestSonioxSynctestDropStreams(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newSonioxPipeHarness(t, emulate.Config{Faults: emulate.Faults{DropAfterMs: 1000, DropStreams: 1}})
		ctx := t.Context()
		o := <-readInBackground(t, ctx, h.startSoniox(t, ctx, stdStart))
		td.Cmp(t, o.rs, td.Len(1))
		td.Cmp(t, h.summary(t).End, emulate.EndDropped)

		c := h.startSoniox(t, ctx, stdStart)
		time.Sleep(1500 * time.Millisecond)
		sendAudio(t, ctx, c, (&signal{}).silence(100).pcm, 3200)
		td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageBinary, nil))
		o = <-readInBackground(t, ctx, c)
		td.Cmp(t, websocket.CloseStatus(o.err), websocket.StatusNormalClosure)
		td.Cmp(t, o.rs, td.Len(1))
		td.Cmp(t, o.rs[0].Finished, true)
		td.Cmp(t, h.summary(t).End, emulate.EndCloseStream, "the second stream was not dropped")
	})
}

// TestSonioxSynctestStall: a stalled stream takes anything first, answers
// neither finalize nor the end of the audio, and only the idle timeout
// ends it, with a bare close frame.
func TestSonioxSynctestStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newSonioxPipeHarness(t, emulate.Config{IdleTimeoutMs: 2000, Faults: emulate.Faults{Stall: true}})
		ctx := t.Context()
		for _, first := range []string{stdStart, "not a start message"} {
			c := h.startSoniox(t, ctx, first)
			sig := (&signal{}).tone(300, 8000).silence(500)
			sendAudio(t, ctx, c, sig.pcm, 3200)
			sendText(t, ctx, c, `{"type": "finalize"}`)
			time.Sleep(time.Second)
			td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageBinary, nil))
			sent := time.Now()
			o := <-readInBackground(t, ctx, c)
			td.CmpEmpty(t, o.rs, "a stalled stream sends nothing")
			td.Cmp(t, o.at.Sub(sent), 2*time.Second, "only the idle timeout ends a stalled stream")
			td.Cmp(t, websocket.CloseStatus(o.err), websocket.StatusNormalClosure)
			td.Cmp(t, h.summary(t), td.SStruct(emulate.StreamSummary{
				End: emulate.EndIdleTimeout, AudioBytes: int64(len(sig.pcm)), Finalizes: 1,
			}, td.StructFields{"=*": td.Ignore()}))
		}
	})
}

func TestSonioxSynctestHandshakeDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newSonioxPipeHarness(t, emulate.Config{Faults: emulate.Faults{HandshakeDelayMs: 750}})
		ctx := t.Context()
		start := time.Now()
		c, _, err := h.dialSoniox(ctx, testKey)
		td.Require(t).CmpNoError(err)
		td.Cmp(t, time.Since(start), 750*time.Millisecond)
		c.CloseNow()

		start = time.Now()
		_, resp, err := h.dialSoniox(ctx, "wrong")
		td.CmpError(t, err)
		checkSonioxRefusal(t, resp, http.StatusUnauthorized)
		td.Cmp(t, time.Since(start), 750*time.Millisecond, "refusals are delayed too")
		synctest.Wait()
		td.Cmp(t, h.srv.Stats(), emulate.Stats{UpgradeAttempts: 2, Refused: 1, Accepted: 1})
	})
}
