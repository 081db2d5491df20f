package stages

import "sync"

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
// never stall the fan-out; what overflow discards is counted.
//
// Exactly one goroutine (the fan-out, the writer) calls Push and Close; the
// sink's goroutine receives from C until it is closed. Dropped and
// Overflowed are safe to call from anywhere.
type Outbox[T any] struct {
	name     string
	ch       chan T
	policy   OverflowPolicy
	onDrop   func()
	overOnce sync.Once
	over     chan struct{}
}

// NewOutbox returns an outbox named name (a bounded metric label, e.g.
// "client") holding up to capacity messages. onDrop, if not nil, is called
// for every discarded message.
func NewOutbox[T any](name string, capacity int, policy OverflowPolicy, onDrop func()) *Outbox[T] {
	if capacity < 1 {
		capacity = 1
	}
	return &Outbox[T]{name: name, ch: make(chan T, capacity), policy: policy, onDrop: onDrop, over: make(chan struct{})}
}

// Name is the sink's name.
func (o *Outbox[T]) Name() string { return o.name }

// C is the channel the sink receives from. It is closed by Close.
func (o *Outbox[T]) C() <-chan T { return o.ch }

// Overflowed is closed when a Disconnect outbox overflowed.
func (o *Outbox[T]) Overflowed() <-chan struct{} { return o.over }

// Push buffers v without blocking and reports whether v was kept.
func (o *Outbox[T]) Push(v T) bool {
	select {
	case <-o.over:
		o.drop()
		return false
	default:
	}
	select {
	case o.ch <- v:
		return true
	default:
	}
	if o.policy == Disconnect {
		o.overOnce.Do(func() { close(o.over) })
		o.drop()
		return false
	}
	select {
	case <-o.ch:
		o.drop()
	default:
	}
	select {
	case o.ch <- v:
		return true
	default:
		o.drop()
		return false
	}
}

func (o *Outbox[T]) drop() {
	if o.onDrop != nil {
		o.onDrop()
	}
}

// Close closes C. Only the writer calls it, once.
func (o *Outbox[T]) Close() { close(o.ch) }
