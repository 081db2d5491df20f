package deepgram_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"
	"golang.org/x/sync/errgroup"

	"earshot/stages"
	"earshot/stages/deepgram"
)

// TestNoGoroutineLeak runs whole sessions (concurrent send and receive,
// then Close) plus refused and cancelled dials, and checks that every
// goroutine they started is gone. Not parallel: it counts goroutines.
func TestNoGoroutineLeak(t *testing.T) {
	f := newFake(t)
	refused := newFake(t, func(f *fakeDG) { f.refuse = &refusal{status: 429} })
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	slow := newFake(t, func(f *fakeDG) { f.hold = hold })
	p := f.provider(t, deepgram.Config{})
	pRefused := refused.provider(t, deepgram.Config{})
	pSlow := slow.provider(t, deepgram.Config{})
	baseline := runtime.NumGoroutine()

	for range 10 {
		session(t, f, p)
		_, err := pRefused.Dial(context.Background(), en16k)
		td.Cmp(t, stages.Classify(err), stages.ClassRetryable)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		_, err = pSlow.Dial(ctx, en16k)
		cancel()
		td.Cmp(t, err, td.NotNil())
	}

	deadline := time.Now().Add(waitFor)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

// session sends audio and KeepAlives from one goroutine while another
// receives, the server answering each audio frame with a Results, then
// closes the stream from outside, as the connector does.
func session(t *testing.T, f *fakeDG, p *deepgram.Provider) {
	t.Helper()
	s, fc := f.dial(t, p)
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
	g.Go(func() error { // fake server: one Results per audio frame (no t.Fatal off the test goroutine)
		for n := 0; n < frames; {
			select {
			case fr, ok := <-fc.frames:
				if !ok {
					return errors.New("client connection ended")
				}
				if fr.typ != websocket.MessageBinary {
					continue
				}
				n++
				select {
				case fc.acts <- sendText(resultsHello):
				case <-time.After(waitFor):
					return errors.New("server connection stuck")
				}
			case <-time.After(waitFor):
				return errors.New("no frame from client")
			}
		}
		return nil
	})
	got := 0
	for got < frames {
		if _, err := s.Recv(context.Background()); err != nil {
			t.Fatalf("Recv: %v", err)
		}
		got++
	}
	td.CmpNoError(t, g.Wait())
	td.CmpNoError(t, s.Close())
	select {
	case <-fc.done:
	case <-time.After(waitFor):
		t.Fatal("server side did not see the close")
	}
}
