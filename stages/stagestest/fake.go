// Package stagestest provides fakes of the stage contracts for tests: a
// Provider whose dials the test answers, a Stream whose traffic the test
// reads and whose results the test pushes (both channel-driven), and
// deterministic speech Detectors (loudness or scripted probabilities,
// with failures on demand).
package stagestest

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"earshot/stages"
)

// ErrClosed is returned by a Stream's methods after Close.
var ErrClosed = errors.New("fake stream closed")

// Dial is one pending Dial call. The test answers it exactly once with
// Accept or Refuse (or leaves it to the dialer's context).
type Dial struct {
	Ctx    context.Context
	Config stages.StreamConfig
	reply  chan dialReply
}

type dialReply struct {
	s   stages.Stream
	err error
}

// Accept answers the dial with s.
func (d *Dial) Accept(s stages.Stream) { d.reply <- dialReply{s: s} }

// Refuse answers the dial with err.
func (d *Dial) Refuse(err error) { d.reply <- dialReply{err: err} }

// Provider is a stages.Provider whose every Dial is handed to the test on
// Dials. A Dial whose context ends before the test answers returns the
// context's error.
type Provider struct {
	// Dials receives every Dial call; unbuffered unless the test makes it
	// otherwise.
	Dials chan *Dial
	// Count counts Dial calls.
	Count atomic.Int64
	// Named, if not empty, is the Name (for chains of several).
	Named string
}

var _ stages.Provider = (*Provider)(nil)

// NewProvider returns a Provider with an unbuffered Dials channel.
func NewProvider() *Provider { return &Provider{Dials: make(chan *Dial)} }

// Name returns Named, or "fake".
func (p *Provider) Name() string {
	if p.Named != "" {
		return p.Named
	}
	return "fake"
}

// Dial hands the call to the test and waits for its answer or ctx.
func (p *Provider) Dial(ctx context.Context, cfg stages.StreamConfig) (stages.Stream, error) {
	p.Count.Add(1)
	d := &Dial{Ctx: ctx, Config: cfg, reply: make(chan dialReply, 1)}
	select {
	case p.Dials <- d:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-d.reply:
		return r.s, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type recvItem struct {
	r   stages.Result
	err error
}

// Stream is a stages.Stream driven by the test: what the connector sends
// comes out on Audio and Controls; what the test pushes comes out of Recv.
type Stream struct {
	// Audio receives a copy of every SendAudio payload.
	Audio chan []byte
	// Controls receives every SendControl message.
	Controls chan stages.Control

	results   chan recvItem
	closed    chan struct{}
	closeOnce sync.Once
	// Closes counts Close calls.
	Closes atomic.Int64

	mu   sync.Mutex
	sent []Sent
}

// Sent is one thing the connector sent on a Stream: Samples of audio, or
// a Control (Samples 0).
type Sent struct {
	Samples int
	Control stages.Control
}

// Sent returns, in order, what was sent on s so far.
func (s *Stream) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

func (s *Stream) record(e Sent) {
	s.mu.Lock()
	s.sent = append(s.sent, e)
	s.mu.Unlock()
}

var _ stages.Stream = (*Stream)(nil)

// NewStream returns a Stream whose Audio and Controls channels hold buf
// messages before SendAudio/SendControl block.
func NewStream(buf int) *Stream {
	return &Stream{
		Audio:    make(chan []byte, buf),
		Controls: make(chan stages.Control, buf),
		results:  make(chan recvItem, buf),
		closed:   make(chan struct{}),
	}
}

// SendAudio copies pcm to Audio.
func (s *Stream) SendAudio(_ context.Context, pcm []byte) error {
	select {
	case <-s.closed:
		return ErrClosed
	default:
	}
	select {
	case s.Audio <- append([]byte(nil), pcm...):
		s.record(Sent{Samples: len(pcm) / 2})
		return nil
	case <-s.closed:
		return ErrClosed
	}
}

// SendControl sends c to Controls.
func (s *Stream) SendControl(_ context.Context, c stages.Control) error {
	select {
	case <-s.closed:
		return ErrClosed
	default:
	}
	select {
	case s.Controls <- c:
		s.record(Sent{Control: c})
		return nil
	case <-s.closed:
		return ErrClosed
	}
}

// Push makes Recv return r.
func (s *Stream) Push(r stages.Result) { s.results <- recvItem{r: r} }

// End makes Recv return err (io.EOF for a normal end).
func (s *Stream) End(err error) { s.results <- recvItem{err: err} }

// EndNormally makes Recv return io.EOF.
func (s *Stream) EndNormally() { s.End(io.EOF) }

// Recv returns what the test pushed, or ErrClosed after Close.
func (s *Stream) Recv(_ context.Context) (stages.Result, error) {
	select {
	case it := <-s.results:
		return it.r, it.err
	case <-s.closed:
		return stages.Result{}, ErrClosed
	}
}

// Close unblocks every call. It is idempotent.
func (s *Stream) Close() error {
	s.Closes.Add(1)
	s.closeOnce.Do(func() { close(s.closed) })
	return nil
}

// Closed is closed once Close was called.
func (s *Stream) Closed() <-chan struct{} { return s.closed }
