package soniox_test

import (
	"context"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"
	"golang.org/x/sync/errgroup"

	"earshot/stages"
	"earshot/stages/soniox"
)

// TestNoGoroutineLeak runs whole sessions (concurrent send and receive,
// then Close, or a normal end), error responses, refused and cancelled
// dials, and checks that every goroutine they started is gone. Not
// parallel: it counts goroutines.
func TestNoGoroutineLeak(t *testing.T) {
	f := newFake(t)
	refused := newFake(t, func(f *fakeSoniox) { f.refuse = &refusal{status: 429} })
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	slow := newFake(t, func(f *fakeSoniox) { f.hold = hold })
	p := f.provider(t, soniox.Config{})
	pRefused := refused.provider(t, soniox.Config{})
	pSlow := slow.provider(t, soniox.Config{})
	baseline := runtime.NumGoroutine()

	for i := range 10 {
		session(t, f, p, i%2 == 0)
		s, fc, _ := f.dial(t, p, en16k)
		fc.send(t, `{"error_code":503,"error_message":"Cannot continue request (code 1). Please restart the request."}`)
		_, err := recv(t, s)
		td.Cmp(t, stages.Classify(err), stages.ClassRetryable)
		td.CmpNoError(t, s.Close())
		_, err = pRefused.Dial(context.Background(), en16k)
		td.Cmp(t, stages.Classify(err), stages.ClassRetryable)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		_, err = pSlow.Dial(ctx, en16k)
		cancel()
		td.Cmp(t, err, td.NotNil())
	}

	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitFor)
	for n := runtime.NumGoroutine(); n > baseline; n = runtime.NumGoroutine() {
		select {
		case <-tick.C:
		case <-deadline:
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
		}
	}
}

// session sends audio and KeepAlives from one goroutine while another
// receives, the server answering each audio frame with a response that
// completes a word; then it either closes the stream from outside, as
// the connector does, or ends it normally (CloseStream, finished, 1000).
func session(t *testing.T, f *fakeSoniox, p *soniox.Provider, normalEnd bool) {
	t.Helper()
	s, fc, _ := f.dial(t, p, en16k)
	const frames = 20
	var g errgroup.Group
	g.Go(func() error { // sender
		ctx := context.WithoutCancel(context.Background())
		pcm := make([]byte, 3200)
		for i := range frames {
			if err := s.SendAudio(ctx, pcm); err != nil {
				return err
			}
			if i%5 == 0 {
				if err := s.SendControl(ctx, stages.ControlKeepAlive); err != nil {
					return err
				}
			}
		}
		return nil
	})
	g.Go(func() error { // fake server (no t.Fatal off the test goroutine)
		for n := 0; n < frames; {
			select {
			case fr, ok := <-fc.frames:
				if !ok {
					return errors.New("client connection ended")
				}
				if fr.typ != websocket.MessageBinary {
					continue
				}
				ms := n * 100
				select {
				case fc.acts <- sendText(resp(ms+100, fin(" w", ms, ms+100), endTok)):
				case <-time.After(waitFor):
					return errors.New("server connection stuck")
				}
				n++
			case <-time.After(waitFor):
				return errors.New("no frame from client")
			}
		}
		return nil
	})
	for range frames {
		if _, err := s.Recv(context.Background()); err != nil {
			t.Fatalf("Recv: %v", err)
		}
	}
	td.CmpNoError(t, g.Wait())
	if normalEnd {
		td.CmpNoError(t, s.SendControl(context.Background(), stages.ControlCloseStream))
		fc.send(t, `{"tokens":[],"final_audio_proc_ms":2000,"total_audio_proc_ms":2000,"finished":true}`)
		fc.close(t, websocket.StatusNormalClosure, "")
		_, err := recv(t, s)
		td.Cmp(t, err, io.EOF)
	}
	td.CmpNoError(t, s.Close())
	select {
	case <-fc.done:
	case <-time.After(waitFor):
		t.Fatal("server side did not see the close")
	}
}
