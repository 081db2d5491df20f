package stages_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
)

func drain(o *stages.Outbox[int]) []int {
	o.Close()
	var got []int
	for v := range o.C() {
		got = append(got, v)
	}
	return got
}

func TestOutboxDropOldest(t *testing.T) {
	drops := 0
	o := stages.NewOutbox[int]("test", 3, stages.DropOldest, func() { drops++ })
	for i := range 5 {
		td.CmpTrue(t, o.Push(i))
	}
	td.Cmp(t, drops, 2)
	td.Cmp(t, drain(o), []int{2, 3, 4})
}

func TestOutboxDisconnect(t *testing.T) {
	drops := 0
	o := stages.NewOutbox[int]("test", 2, stages.Disconnect, func() { drops++ })
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
