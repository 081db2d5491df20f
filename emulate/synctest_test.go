package emulate_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
)

// The tests in this file run over the in-memory pipe network inside a
// synctest bubble, so every timeout is checked to the exact fake
// millisecond without real sleeps.

func TestSynctestIdleResetByKeepAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newPipeHarness(t, emulate.Config{IdleTimeoutMs: 300})
		ctx := testCtx(t)
		c := h.mustDial(t, ctx)
		sendAudio(t, ctx, c, (&signal{}).silence(100).pcm, 3200)
		for range 5 {
			time.Sleep(299 * time.Millisecond)
			sendText(t, ctx, c, `{"type":"KeepAlive"}`)
		}
		last := time.Now()
		msgs, err := readAll(t, ctx, c)
		td.Cmp(t, time.Since(last), 300*time.Millisecond, "closed exactly IdleTimeoutMs after the last frame")
		td.Cmp(t, websocket.CloseStatus(err), websocket.StatusInternalError)
		td.Cmp(t, closeReason(err), emulate.ReasonIdle)
		td.Require(t).Cmp(msgs, td.Len(1))
		td.Cmp(t, msgs[0].Raw, td.SuperJSONOf(`{"type": "Metadata", "duration": 0.1}`))
		td.Cmp(t, h.summary(t), td.SStruct(emulate.StreamSummary{End: emulate.EndIdleTimeout, AudioBytes: 3200, KeepAlives: 5},
			td.StructFields{"=*": td.Ignore()}))
	})
}

func TestSynctestDefaultIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newPipeHarness(t, emulate.Config{})
		ctx := testCtx(t)
		start := time.Now()
		c := h.mustDial(t, ctx)
		_, err := readAll(t, ctx, c)
		td.Cmp(t, time.Since(start), 10*time.Second)
		td.Cmp(t, closeReason(err), emulate.ReasonIdle)
	})
}

func TestSynctestDrop(t *testing.T) {
	for _, abrupt := range []bool{false, true} {
		t.Run(map[bool]string{false: "graceful", true: "abrupt"}[abrupt], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newPipeHarness(t, emulate.Config{Faults: emulate.Faults{DropAfterMs: 1500, DropAbrupt: abrupt}})
				ctx := testCtx(t)
				start := time.Now()
				c := h.mustDial(t, ctx)
				type outcome struct {
					msgs []message
					err  error
					at   time.Duration
				}
				read := make(chan outcome, 1)
				go func() {
					msgs, err := readAll(t, ctx, c)
					read <- outcome{msgs, err, time.Since(start)}
				}()
				// Audio keeps coming until the drop: drops do not depend
				// on idleness. Writes fail once the stream is gone.
				for c.Write(ctx, websocket.MessageBinary, make([]byte, 3200)) == nil {
					time.Sleep(100 * time.Millisecond)
				}
				o := <-read
				msgs, err := o.msgs, o.err
				td.Cmp(t, o.at, 1500*time.Millisecond)
				if abrupt {
					td.CmpEmpty(t, msgs)
					td.Cmp(t, websocket.CloseStatus(err), websocket.StatusCode(-1))
				} else {
					td.Cmp(t, len(msgs), 1)
					td.Cmp(t, websocket.CloseStatus(err), websocket.StatusInternalError)
					td.Cmp(t, closeReason(err), emulate.ReasonDropped)
				}
				td.Cmp(t, h.summary(t).End, emulate.EndDropped)
			})
		})
	}
}

func TestSynctestStallNeverAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newPipeHarness(t, emulate.Config{IdleTimeoutMs: 2000, Faults: emulate.Faults{Stall: true}})
		ctx := testCtx(t)
		c := h.mustDial(t, ctx)
		sendAudio(t, ctx, c, (&signal{}).tone(300, 8000).silence(500).pcm, 3200)
		sendText(t, ctx, c, `{"type":"Finalize"}`)
		time.Sleep(time.Second)
		sendText(t, ctx, c, `{"type":"CloseStream"}`)
		sent := time.Now()
		msgs, err := readAll(t, ctx, c)
		td.CmpEmpty(t, msgs)
		td.Cmp(t, time.Since(sent), 2*time.Second, "only the idle timeout ends a stalled stream")
		td.Cmp(t, websocket.CloseStatus(err), websocket.StatusInternalError)
		td.Cmp(t, h.summary(t), td.SStruct(emulate.StreamSummary{
			End: emulate.EndIdleTimeout, AudioBytes: 25600, Finalizes: 1, CloseStream: true,
		}, td.StructFields{"=*": td.Ignore()}))
	})
}

func TestSynctestHandshakeDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newPipeHarness(t, emulate.Config{APIKey: testKey, Faults: emulate.Faults{HandshakeDelayMs: 750}})
		ctx := testCtx(t)
		start := time.Now()
		c := h.mustDial(t, ctx)
		td.Cmp(t, time.Since(start), 750*time.Millisecond)
		c.CloseNow()

		start = time.Now()
		_, resp, err := h.dial(ctx, stdParams, "wrong")
		td.CmpError(t, err)
		td.Cmp(t, resp.StatusCode, 401)
		td.Cmp(t, time.Since(start), 750*time.Millisecond, "refusals are delayed too")

		// A client that gives up ends the wait; nothing is counted but
		// the attempt.
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, _, err = h.dial(short, stdParams, testKey)
		td.CmpError(t, err)
		synctest.Wait()
		td.Cmp(t, h.srv.Stats(), emulate.Stats{UpgradeAttempts: 3, Refused: 1, Accepted: 1})
	})
}
