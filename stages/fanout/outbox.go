package fanout

import (
	"iter"
	"sync"
)

// OverflowPolicy is what an Outbox does when its buffer is full.
type OverflowPolicy int

const (
	// DropOldest discards the oldest buffered message to make room.
	DropOldest OverflowPolicy = iota + 1
	// Disconnect marks the sink overflowed (Overflowed is closed), after
	// which every message is discarded; the sink's owner ends that sink.
	Disconnect
)

// Outbox is a sink's bounded buffer. Push never blocks, so a slow sink can
// never stall the fan-out; what overflow discards is counted. Its memory
// follows what it holds (nothing while the sink keeps up), not its
// capacity.
//
// Exactly one goroutine (the fan-out, the writer) calls Push and Close;
// the sink's goroutine waits on Ready and takes messages with Pop (or
// ranges over All). Overflowed is safe to call from anywhere.
type Outbox[T any] struct {
	name     string
	capacity int
	policy   OverflowPolicy
	onDrop   func()
	ready    chan struct{} // one token: messages may be waiting, or closed
	overOnce sync.Once
	over     chan struct{}

	mu     sync.Mutex
	buf    []T // ring of len(buf) ≤ capacity slots
	head   int // index of the oldest message in buf
	n      int // messages held
	closed bool
}

// NewOutbox returns an outbox named name (a bounded metric label, e.g.
// "client") holding up to capacity messages. onDrop, if not nil, is called
// for every discarded message.
func NewOutbox[T any](name string, capacity int, policy OverflowPolicy, onDrop func()) *Outbox[T] {
	return &Outbox[T]{
		name: name, capacity: max(capacity, 1), policy: policy, onDrop: onDrop,
		ready: make(chan struct{}, 1), over: make(chan struct{}),
	}
}

// Name is the sink's name.
func (o *Outbox[T]) Name() string { return o.name }

// Overflowed is closed when a Disconnect outbox overflowed.
func (o *Outbox[T]) Overflowed() <-chan struct{} { return o.over }

// Ready yields a value after a Push or the Close since the sink last
// received from it. After receiving, the sink calls Pop until it reports
// nothing buffered. A value may come when Pop finds nothing.
func (o *Outbox[T]) Ready() <-chan struct{} { return o.ready }

// Pop takes the oldest buffered message. When none is buffered, ok is
// false and closed reports whether Close was called: no message will
// come any more.
func (o *Outbox[T]) Pop() (v T, ok, closed bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == 0 {
		if len(o.buf) > 4 { // a backlog is over: give its slots back
			o.buf, o.head = nil, 0
		}
		return v, false, o.closed
	}
	return o.takeLocked(), true, false
}

// takeLocked removes and returns the oldest message; o.mu is held and
// o.n > 0.
func (o *Outbox[T]) takeLocked() T {
	v := o.buf[o.head]
	var zero T
	o.buf[o.head] = zero
	o.head = (o.head + 1) % len(o.buf)
	o.n--
	return v
}

// All yields every message until the outbox is closed and empty, waiting
// on Ready between them; for sinks that need no other wake-up.
func (o *Outbox[T]) All() iter.Seq[T] {
	return func(yield func(T) bool) {
		for {
			v, ok, closed := o.Pop()
			switch {
			case ok:
				if !yield(v) {
					return
				}
			case closed:
				return
			default:
				<-o.ready
			}
		}
	}
}

// Push buffers v without blocking and reports whether v was kept.
func (o *Outbox[T]) Push(v T) bool {
	select {
	case <-o.over:
		o.drop()
		return false
	default:
	}
	o.mu.Lock()
	dropped := false
	if o.n == o.capacity {
		if o.policy == Disconnect {
			o.mu.Unlock()
			o.overOnce.Do(func() { close(o.over) })
			o.drop()
			return false
		}
		o.takeLocked()
		dropped = true
	}
	if o.n == len(o.buf) { // grow: double, up to the capacity
		grown := make([]T, min(max(2*len(o.buf), 2), o.capacity))
		for i := range o.n {
			grown[i] = o.buf[(o.head+i)%len(o.buf)]
		}
		o.buf, o.head = grown, 0
	}
	o.buf[(o.head+o.n)%len(o.buf)] = v
	o.n++
	o.mu.Unlock()
	if dropped {
		o.drop()
	}
	o.wake()
	return true
}

func (o *Outbox[T]) wake() {
	select {
	case o.ready <- struct{}{}:
	default:
	}
}

func (o *Outbox[T]) drop() {
	if o.onDrop != nil {
		o.onDrop()
	}
}

// Close ends the outbox: the sink takes what is buffered, then Pop
// reports closed. Only the writer calls it, once.
func (o *Outbox[T]) Close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	o.wake()
}
