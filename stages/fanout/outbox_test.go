package fanout_test

import (
	"runtime"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages/fanout"
)

func drain(o *fanout.Outbox[int]) []int {
	o.Close()
	var got []int
	for v := range o.All() {
		got = append(got, v)
	}
	return got
}

func TestOutboxDropOldest(t *testing.T) {
	drops := 0
	o := fanout.NewOutbox[int]("test", 3, fanout.DropOldest, func() { drops++ })
	for i := range 5 {
		td.CmpTrue(t, o.Push(i))
	}
	td.Cmp(t, drops, 2)
	td.Cmp(t, drain(o), []int{2, 3, 4})
}

func TestOutboxDisconnect(t *testing.T) {
	drops := 0
	o := fanout.NewOutbox[int]("test", 2, fanout.Disconnect, func() { drops++ })
	td.CmpTrue(t, o.Push(1))
	td.CmpTrue(t, o.Push(2))
	select {
	case <-o.Overflowed():
		t.Fatal("overflowed too early")
	default:
	}
	td.CmpFalse(t, o.Push(3))
	td.CmpFalse(t, o.Push(4), "everything after the overflow is discarded")
	<-o.Overflowed()
	td.Cmp(t, drops, 2)
	td.Cmp(t, o.Name(), "test")
	td.Cmp(t, drain(o), []int{1, 2})
}

// TestOutboxConcurrentSink: a sink waiting on Ready while the producer
// pushes gets every message, in order, then sees the close.
func TestOutboxConcurrentSink(t *testing.T) {
	o := fanout.NewOutbox[int]("test", 5000, fanout.Disconnect, nil)
	got := make(chan []int)
	go func() {
		var vs []int
		for {
			<-o.Ready()
			for {
				v, ok, closed := o.Pop()
				if closed {
					got <- vs
					return
				}
				if !ok {
					break
				}
				vs = append(vs, v)
			}
		}
	}()
	want := make([]int, 0, 5000)
	for i := range 5000 {
		for !o.Push(i) {
			t.Fatal("overflowed")
		}
		want = append(want, i)
		if i%100 == 99 {
			runtime.Gosched()
		}
	}
	o.Close()
	td.Cmp(t, <-got, want)
}

// TestOutboxWrapsAround: pushes and pops interleaved past the capacity
// (the ring wraps and drops) match a plain slice model of drop-oldest.
func TestOutboxWrapsAround(t *testing.T) {
	drops := 0
	o := fanout.NewOutbox[int]("test", 3, fanout.DropOldest, func() { drops++ })
	var model, got, want []int
	push := func(v int) {
		o.Push(v)
		if model = append(model, v); len(model) > 3 {
			model = model[1:]
		}
	}
	for i := range 10 {
		push(2 * i)
		push(2*i + 1)
		v, ok, closed := o.Pop()
		td.Cmp(t, []bool{ok, closed}, []bool{true, false})
		got, want, model = append(got, v), append(want, model[0]), model[1:]
	}
	td.Cmp(t, got, want)
	td.Cmp(t, got[:4], []int{0, 1, 3, 5})
	td.Cmp(t, drain(o), model)
	td.Cmp(t, model, []int{18, 19})
	td.Cmp(t, drops, 20-10-2, "pushed, less taken, less held")
}
