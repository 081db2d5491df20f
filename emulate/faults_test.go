package emulate_test

import (
	"context"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
)

func TestDropGraceful(t *testing.T) {
	h := newHarness(t, emulate.Config{Faults: emulate.Faults{DropAfterMs: 150}})
	ctx := testCtx(t)
	start := time.Now()
	c := h.mustDial(t, ctx)
	sendAudio(t, ctx, c, (&signal{}).silence(100).pcm, 3200)
	msgs, err := readAll(t, ctx, c)
	td.Cmp(t, time.Since(start), td.Gte(150*time.Millisecond))
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusInternalError)
	td.Cmp(t, closeReason(err), emulate.ReasonDropped)
	td.Cmp(t, len(emulate.ReasonDropped), td.Lte(123), "fits a close frame")
	td.Require(t).Cmp(msgs, td.Len(1))
	td.Cmp(t, msgs[0].Raw, td.SuperJSONOf(`{"type": "Metadata", "duration": 0.1}`))
	td.Cmp(t, h.summary(t), td.SStruct(emulate.StreamSummary{End: emulate.EndDropped, AudioBytes: 3200},
		td.StructFields{"=*": td.Ignore()}))
}

func TestDropAbrupt(t *testing.T) {
	h := newHarness(t, emulate.Config{Faults: emulate.Faults{DropAfterMs: 150, DropAbrupt: true}})
	ctx := testCtx(t)
	c := h.mustDial(t, ctx)
	sendAudio(t, ctx, c, (&signal{}).silence(100).pcm, 3200)
	msgs, err := readAll(t, ctx, c)
	td.CmpEmpty(t, msgs, "no Metadata, no close frame")
	// No close frame: coder/websocket reports -1 (the 1006 case) and EOF.
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusCode(-1))
	td.Cmp(t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF), true, "err: %v", err)
	td.Cmp(t, h.summary(t).End, emulate.EndDropped)
}

func TestDropEachStream(t *testing.T) {
	h := newHarness(t, emulate.Config{Faults: emulate.Faults{DropAfterMs: 100}})
	ctx := testCtx(t)
	for range 2 {
		c := h.mustDial(t, ctx)
		_, err := readAll(t, ctx, c)
		td.Cmp(t, websocket.CloseStatus(err), websocket.StatusInternalError)
		td.Cmp(t, h.summary(t).End, emulate.EndDropped)
	}
}

// TestDropOnlyTheFirstStreams: with DropStreams, only the first streams
// opened drop; the next one stays up until its client ends it.
func TestDropOnlyTheFirstStreams(t *testing.T) {
	h := newHarness(t, emulate.Config{Faults: emulate.Faults{DropAfterMs: 100, DropStreams: 1}})
	ctx := testCtx(t)
	c := h.mustDial(t, ctx)
	_, err := readAll(t, ctx, c)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusInternalError)
	td.Cmp(t, h.summary(t).End, emulate.EndDropped)

	c = h.mustDial(t, ctx)
	sendAudio(t, ctx, c, (&signal{}).silence(300).pcm, 3200)
	time.Sleep(250 * time.Millisecond) // the fault is on wall time: outlive DropAfterMs
	sendText(t, ctx, c, `{"type":"CloseStream"}`)
	_, err = readAll(t, ctx, c)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
	td.Cmp(t, h.summary(t).End, emulate.EndCloseStream, "the second stream was not dropped")
}

func TestStall(t *testing.T) {
	h := newHarness(t, emulate.Config{IdleTimeoutMs: 300, Faults: emulate.Faults{Stall: true}})
	ctx := testCtx(t)
	c := h.mustDial(t, ctx)
	sig := (&signal{}).tone(300, 8000).silence(500)
	sendAudio(t, ctx, c, sig.pcm, 3200)
	sendText(t, ctx, c, `{"type":"Finalize"}`)
	sendText(t, ctx, c, `{"type":"CloseStream"}`)
	start := time.Now()
	msgs, err := readAll(t, ctx, c)
	td.CmpEmpty(t, msgs, "a stalled stream sends nothing, not even Metadata")
	td.Cmp(t, time.Since(start), td.Gte(250*time.Millisecond), "CloseStream is not answered")
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusInternalError, "the idle timeout still ends it")
	td.Cmp(t, closeReason(err), emulate.ReasonIdle)
	td.Cmp(t, h.summary(t), td.SStruct(emulate.StreamSummary{
		End: emulate.EndIdleTimeout, AudioBytes: int64(len(sig.pcm)), Finalizes: 1, CloseStream: true,
	}, td.StructFields{"=*": td.Ignore()}))
}

// TestCloseEndsStreamsAndLeavesNoGoroutines runs real streams, closes the
// Server and checks that every goroutine it started is gone.
func TestCloseEndsStreamsAndLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	h := newHarness(t, emulate.Config{Faults: emulate.Faults{HandshakeDelayMs: 1}})
	ctx := testCtx(t)
	type outcome struct {
		msgs []message
		err  error
	}
	const n = 3
	results := make(chan outcome, n)
	for range n {
		c := h.mustDial(t, ctx)
		sendAudio(t, ctx, c, (&signal{}).tone(100, 8000).silence(50).pcm, 3200)
		sendText(t, ctx, c, `{"type":"Finalize"}`)
		_, _, err := c.Read(ctx) // the audio is in once Finalize is answered
		td.Require(t).CmpNoError(err)
		go func() {
			var o outcome
			for {
				_, b, err := c.Read(ctx)
				if err != nil {
					o.err = err
					break
				}
				o.msgs = append(o.msgs, message{Raw: b})
			}
			results <- o
		}()
	}
	td.Cmp(t, h.srv.Stats(), emulate.Stats{UpgradeAttempts: n, Accepted: n, Active: n})
	td.CmpNoError(t, h.srv.Close())
	td.Cmp(t, h.srv.Stats().Active, int64(0), "Close waited for every stream")
	for range n {
		o := <-results
		td.Cmp(t, websocket.CloseStatus(o.err), websocket.StatusGoingAway)
		td.Cmp(t, closeReason(o.err), emulate.ReasonShutdown)
		td.Require(t).Cmp(o.msgs, td.Len(1))
		td.Cmp(t, o.msgs[0].Raw, td.SuperJSONOf(`{"type": "Metadata", "duration": 0.15}`))
		td.Cmp(t, h.summary(t).End, emulate.EndServerShutdown)
	}
	td.CmpNoError(t, h.srv.Close(), "idempotent")
	h.http.Close()

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before, %d after:\n%s", before, got, buf[:runtime.Stack(buf, true)])
	}
}

func TestClientGoneMidStream(t *testing.T) {
	h := newHarness(t, emulate.Config{})
	ctx, cancel := context.WithCancel(testCtx(t))
	c := h.mustDial(t, ctx)
	sendAudio(t, ctx, c, (&signal{}).silence(200).pcm, 3200)
	sendText(t, ctx, c, `{"type":"KeepAlive"}`)
	cancel()
	td.CmpNoError(t, c.CloseNow())
	td.Cmp(t, h.summary(t), td.SStruct(emulate.StreamSummary{End: emulate.EndClientGone, AudioBytes: 6400, KeepAlives: 1},
		td.StructFields{"=*": td.Ignore()}))
	td.Cmp(t, h.srv.Stats().Active, int64(0))
}
