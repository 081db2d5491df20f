package emulate_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/stages"
	"earshot/stages/stagestest"
)

// dialed is the outcome of one FromProvider factory call.
type dialed struct {
	rec emulate.Recognizer
	err error
}

// dialRecognizer calls FromProvider(p)'s factory at rate, hands its Dial
// to answer (the channel-driven fake provider waits for the test) and
// returns the factory's result with the StreamConfig it dialled.
func dialRecognizer(t *testing.T, rate int, answer func(*stagestest.Dial)) (dialed, stages.StreamConfig) {
	t.Helper()
	p := stagestest.NewProvider()
	got := make(chan dialed, 1)
	go func() {
		rec, err := emulate.FromProvider(p)(rate)
		got <- dialed{rec, err}
	}()
	var d *stagestest.Dial
	select {
	case d = <-p.Dials:
	case <-time.After(5 * time.Second):
		t.Fatal("the factory did not dial within 5s")
	}
	answer(d)
	select {
	case r := <-got:
		return r, d.Config
	case <-time.After(5 * time.Second):
		t.Fatal("the factory did not return within 5s of the answer")
		return dialed{}, stages.StreamConfig{}
	}
}

// newProviderRecognizer is a recognizer on a fresh syncStream.
func newProviderRecognizer(t *testing.T) (emulate.Recognizer, *syncStream) {
	t.Helper()
	s := newSyncStream(t)
	r, _ := dialRecognizer(t, testRate, func(d *stagestest.Dial) { d.Accept(s) })
	td.Require(t).CmpNoError(r.err)
	return r.rec, s
}

func final(words ...stages.Word) stages.Result {
	return stages.Result{Words: words, IsFinal: true}
}

func TestFromProviderDial(t *testing.T) {
	s := newSyncStream(t)
	r, sc := dialRecognizer(t, 8000, func(d *stagestest.Dial) { d.Accept(s) })
	td.Require(t).CmpNoError(r.err)
	td.Cmp(t, sc, stages.StreamConfig{SampleRateHz: 8000, Channels: 1, Language: "en"})
	td.Cmp(t, r.rec, td.Isa((*io.Closer)(nil)), "the recognizer holds the stream: the server must close it")
}

func TestFromProviderDialRefused(t *testing.T) {
	capacity := &stages.UpstreamError{HTTPStatus: 429, Code: "CAPACITY", Err: stages.ErrCapacity}
	r, _ := dialRecognizer(t, testRate, func(d *stagestest.Dial) { d.Refuse(capacity) })
	td.Cmp(t, r.err, td.ErrorIs(stages.ErrCapacity), "capacity stays visible (the server answers 429)")
	td.Cmp(t, r.err, td.ErrorIs(capacity))
	td.CmpNil(t, r.rec)

	broken := errors.New("no model")
	r, _ = dialRecognizer(t, testRate, func(d *stagestest.Dial) { d.Refuse(broken) })
	td.Cmp(t, r.err, td.ErrorIs(broken))
	td.Cmp(t, r.err, td.Not(td.ErrorIs(stages.ErrCapacity)))
}

func TestFromProviderAcceptReturnsFinalWords(t *testing.T) {
	rec, s := newProviderRecognizer(t)
	a, b, c := word("a", 0.1, 0.2, 0), word("b", 0.3, 0.4, 0), word("c", 0.5, 0.6, 1)
	calls := 0
	s.onAudio = func([]byte) []stages.Result {
		calls++
		if calls == 1 {
			return nil // heard, nothing complete yet
		}
		return []stages.Result{
			{Words: []stages.Word{a}}, // interim: dropped
			final(a, b),
			final(), // an empty final (silence) adds nothing
			final(c),
		}
	}
	td.CmpNil(t, rec.Accept([]byte{1, 0, 2, 0}))
	td.Cmp(t, rec.Accept([]byte{3, 0}), []stages.Word{a, b, c})
	td.CmpNil(t, rec.Accept(nil), "empty audio is not sent (the Stream contract)")
	audio, controls, closes := s.state()
	td.Cmp(t, audio, []byte{1, 0, 2, 0, 3, 0})
	td.CmpEmpty(t, controls)
	td.Cmp(t, closes, 0)
}

func TestFromProviderFlushFinalizes(t *testing.T) {
	rec, s := newProviderRecognizer(t)
	b, c := word("b", 0.3, 0.4, 0), word("c", 0.5, 0.6, 0)
	s.onFinalize = func() []stages.Result {
		s.onFinalize = nil // then empty FromFinalize finals
		return []stages.Result{{Words: []stages.Word{c}, IsFinal: true, FromFinalize: true}}
	}
	s.push(final(b)) // queued before Flush (e.g. by another producer)
	td.Cmp(t, rec.Flush(), []stages.Word{b, c})
	td.CmpNil(t, rec.Flush(), "an empty Finalize result: no words")
	_, controls, _ := s.state()
	td.Cmp(t, controls, []stages.Control{stages.ControlFinalize, stages.ControlFinalize})
}

func TestFromProviderClose(t *testing.T) {
	rec, s := newProviderRecognizer(t)
	td.CmpNoError(t, rec.(io.Closer).Close())
	_, controls, closes := s.state()
	td.Cmp(t, closes, 1)
	td.CmpEmpty(t, controls, "Close ends the stream at once, without CloseStream")
}

func TestFromProviderRecvFailure(t *testing.T) {
	rec, s := newProviderRecognizer(t)
	a := word("a", 0.1, 0.2, 0)
	broken := &stages.UpstreamError{Code: "DECODER", Err: errors.New("decoder failed")}
	s.onAudio = func([]byte) []stages.Result { return []stages.Result{final(a)} }
	s.failAfterQueue(broken)
	td.Cmp(t, rec.Accept([]byte{1, 0}), []stages.Word{a}, "the results before the failure count")
	td.CmpNil(t, rec.Accept([]byte{2, 0}))
	td.CmpNil(t, rec.Flush())
	audio, controls, _ := s.state()
	td.Cmp(t, audio, []byte{1, 0}, "nothing is sent after a failure")
	td.CmpEmpty(t, controls)

	err := rec.(io.Closer).Close()
	td.Cmp(t, err, td.ErrorIs(broken), "Close reports the failure")
	td.Cmp(t, err, td.Re(`^emulate: fake stream: receiving: `))
	_, _, closes := s.state()
	td.Cmp(t, closes, 1, "and still closes the stream")
}

func TestFromProviderSendFailure(t *testing.T) {
	for _, flush := range []bool{false, true} {
		rec, s := newProviderRecognizer(t)
		broken := errors.New("gone")
		s.sendErr = broken
		if flush {
			td.CmpNil(t, rec.Flush())
		} else {
			td.CmpNil(t, rec.Accept([]byte{1, 0}))
		}
		td.Cmp(t, rec.(io.Closer).Close(), td.ErrorIs(broken), "flush %t", flush)
	}
}

// TestFromProviderThroughServer serves streams from a one-stream pool: a
// second stream at once is refused with 429 like Deepgram over its
// concurrency limit, the words of the provider's finals come out as
// Results with their times, and the stream's end frees the pool for the
// next one.
func TestFromProviderThroughServer(t *testing.T) {
	p := &poolProvider{t: t, free: 1, newStream: func(s *syncStream) {
		var samples int
		s.onAudio = func(pcm []byte) []stages.Result {
			from := float64(samples) / testRate
			samples += len(pcm) / 2
			if from == 0 {
				return nil
			}
			// One word per frame after the first, over its audio.
			name := fmt.Sprintf("w%d", int(from*1000))
			return []stages.Result{final(word(name, from, float64(samples)/testRate, 0))}
		}
	}}
	h := newHarness(t, emulate.Config{APIKey: testKey, Recognizer: emulate.FromProvider(p)})
	ctx := testCtx(t)

	c := h.mustDial(t, ctx)
	_, resp, err := h.dial(ctx, stdParams, testKey)
	td.CmpError(t, err)
	checkRefusal(t, resp, http.StatusTooManyRequests, "TOO_MANY_REQUESTS")

	sendAudio(t, ctx, c, (&signal{}).silence(300).pcm, 3200) // 100 ms frames
	sendText(t, ctx, c, `{"type":"CloseStream"}`)
	msgs, err := readAll(t, ctx, c)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
	td.Require(t).Cmp(msgs, td.Len(4))
	for i, want := range []struct {
		start, duration float64
		words           []wordJSON
	}{
		{0, 0.2, []wordJSON{{Word: "w100", Start: 0.1, End: 0.2}}},
		{0.2, 0.1, []wordJSON{{Word: "w200", Start: 0.2, End: 0.3}}},
		{0.3, 0, []wordJSON{}}, // CloseStream's flush: Finalize gave no words
	} {
		m := msgs[i]
		td.Cmp(t, m.Type, "Results", "message %d", i)
		td.CmpTrue(t, m.IsFinal, "Results %d", i)
		td.Cmp(t, m.Start, td.N(want.start, 1e-9), "Results %d", i)
		td.Cmp(t, m.Duration, td.N(want.duration, 1e-9), "Results %d", i)
		td.Cmp(t, m.words(), want.words, "Results %d", i)
	}
	td.Cmp(t, msgs[3].Type, "Metadata")
	td.Cmp(t, h.summary(t).End, emulate.EndCloseStream)

	audio, controls, closes := p.stream(0).state()
	td.Cmp(t, len(audio), 9600)
	td.Cmp(t, controls, []stages.Control{stages.ControlFinalize})
	td.Cmp(t, closes, 1)

	c2 := h.mustDial(t, ctx) // the pool's stream is free again
	c2.CloseNow()
	td.Cmp(t, h.summary(t).End, emulate.EndClientGone)
	td.Cmp(t, p.dials, td.All(td.Len(3), td.ArrayEach(stages.StreamConfig{SampleRateHz: testRate, Channels: 1, Language: "en"})))
	td.Cmp(t, h.srv.Stats(), emulate.Stats{UpgradeAttempts: 3, Refused: 1, Accepted: 2})
}
