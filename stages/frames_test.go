package stages_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
)

func TestFrameBuffersAreReused(t *testing.T) {
	a := stages.NewFrame()
	td.Cmp(t, len(a), 0)
	td.Cmp(t, cap(a), stages.FrameBytes)
	a = append(a, 1, 2, 3)
	stages.ReleaseFrame(a)
	b := stages.NewFrame()
	td.Cmp(t, len(b), 0, "handed out empty")
	td.Cmp(t, &b[:1][0], &a[0], "the released buffer comes back")

	// Parts of a buffer, and buffers of other sizes, are never taken in.
	b = b[:20]
	stages.ReleaseFrame(b[:10:10])
	stages.ReleaseFrame(b[10:])
	stages.ReleaseFrame(make([]byte, 5000))
	c := stages.NewFrame()
	td.Cmp(t, cap(c), stages.FrameBytes)
	td.Cmp(t, &c[:1][0] == &b[:1][0], false, "b is still owned by its holder")
}
