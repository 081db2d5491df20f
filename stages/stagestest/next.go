package stagestest

import (
	"testing"
	"time"
)

// Next returns the next value on ch, failing t at once when none comes
// within a minute (of fake time, inside a synctest bubble) or ch is closed.
func Next[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return v
	case <-time.After(time.Minute):
		t.Fatal("nothing came within a minute")
	}
	var zero T
	return zero
}
