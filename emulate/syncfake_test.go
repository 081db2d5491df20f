package emulate_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"earshot/stages"
)

// errWouldBlock is what syncStream.Recv returns where a real stream would
// block: on an empty queue with a live context.
var errWouldBlock = errors.New("fake: Recv would block")

// syncStream is a stages.Stream that decodes synchronously, like the
// local recognizer's: SendAudio and SendControl queue their results (made
// by the test's hooks) before they return, and Recv returns the queue,
// then the failure set with failAfterQueue, then a done context's error.
// Its mutex makes it safe to inspect from the test while a server uses it.
type syncStream struct {
	t *testing.T

	mu         sync.Mutex
	onAudio    func(pcm []byte) []stages.Result // nil: no results
	onFinalize func() []stages.Result           // nil: an empty FromFinalize final
	sendErr    error                            // returned by sends when set
	recvErr    error                            // returned by Recv after the queue
	queue      []stages.Result
	audio      []byte
	controls   []stages.Control
	closes     int
	onClose    func()
}

var _ stages.Stream = (*syncStream)(nil)

func newSyncStream(t *testing.T) *syncStream { return &syncStream{t: t} }

// push queues results as if an earlier call had produced them.
func (s *syncStream) push(rs ...stages.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, rs...)
}

// failAfterQueue makes Recv return err once the queue is empty.
func (s *syncStream) failAfterQueue(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recvErr = err
}

func (s *syncStream) SendAudio(_ context.Context, pcm []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(pcm) == 0 {
		s.t.Error("SendAudio with empty pcm (the Stream contract forbids it)")
	}
	if s.closes > 0 {
		return errors.New("fake: send after Close")
	}
	if s.sendErr != nil {
		return s.sendErr
	}
	s.audio = append(s.audio, pcm...)
	if s.onAudio != nil {
		s.queue = append(s.queue, s.onAudio(pcm)...)
	}
	return nil
}

func (s *syncStream) SendControl(_ context.Context, c stages.Control) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closes > 0 {
		return errors.New("fake: send after Close")
	}
	if s.sendErr != nil {
		return s.sendErr
	}
	s.controls = append(s.controls, c)
	if c == stages.ControlFinalize {
		if s.onFinalize != nil {
			s.queue = append(s.queue, s.onFinalize()...)
		} else {
			s.queue = append(s.queue, stages.Result{IsFinal: true, FromFinalize: true})
		}
	}
	return nil
}

func (s *syncStream) Recv(ctx context.Context) (stages.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case len(s.queue) > 0:
		r := s.queue[0]
		s.queue = s.queue[1:]
		return r, nil
	case s.recvErr != nil:
		return stages.Result{}, s.recvErr
	case ctx.Err() != nil:
		return stages.Result{}, fmt.Errorf("fake recv: %w", ctx.Err())
	}
	s.t.Error("Recv with a live context on an empty queue: a real stream would block")
	return stages.Result{}, errWouldBlock
}

func (s *syncStream) Close() error {
	s.mu.Lock()
	s.closes++
	onClose := s.onClose
	s.mu.Unlock()
	if onClose != nil {
		onClose()
	}
	return nil
}

// state returns what the stream received, and how often it was closed.
func (s *syncStream) state() (audio []byte, controls []stages.Control, closes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.audio...), append([]stages.Control(nil), s.controls...), s.closes
}

// poolProvider is a stages.Provider with a fixed number of synchronous
// streams, like the local recognizer's decoder pool: a Dial beyond it is
// refused with the local recognizer's 429 CAPACITY error. newStream
// configures each stream; closing a stream frees its slot.
type poolProvider struct {
	t         *testing.T
	newStream func(*syncStream)

	mu      sync.Mutex
	free    int
	dials   []stages.StreamConfig
	streams []*syncStream
}

var _ stages.Provider = (*poolProvider)(nil)

func (p *poolProvider) Name() string { return "fake-pool" }

func (p *poolProvider) Dial(_ context.Context, sc stages.StreamConfig) (stages.Stream, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dials = append(p.dials, sc)
	if p.free == 0 {
		return nil, &stages.UpstreamError{HTTPStatus: 429, Code: "CAPACITY", Reason: "all decoders busy",
			Err: fmt.Errorf("fake pool: %w", stages.ErrCapacity)}
	}
	p.free--
	s := newSyncStream(p.t)
	var once sync.Once
	s.onClose = func() {
		once.Do(func() {
			p.mu.Lock()
			p.free++
			p.mu.Unlock()
		})
	}
	if p.newStream != nil {
		p.newStream(s)
	}
	p.streams = append(p.streams, s)
	return s, nil
}

// stream returns the i-th stream dialled.
func (p *poolProvider) stream(i int) *syncStream {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.streams[i]
}
