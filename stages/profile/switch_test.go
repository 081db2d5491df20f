package profile_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/profile"
	"earshot/stages/stagestest"
)

type rig struct {
	sw         *profile.Switch
	in         chan stages.Audio
	ready      chan struct{}
	temp, main chan stages.Audio
	done       chan error
}

func start(cfg profile.Config) *rig {
	r := &rig{
		sw: profile.New(cfg), in: make(chan stages.Audio, 8), ready: make(chan struct{}),
		temp: make(chan stages.Audio, 8), main: make(chan stages.Audio, 8), done: make(chan error, 1),
	}
	go func() { r.done <- r.sw.Run(context.Background(), r.in, r.ready, r.temp, r.main) }()
	return r
}

func audio(start int, mark stages.Mark) stages.Audio {
	return stages.Audio{PCM: stagestest.PCM(start, 1600), Start: int64(start), SampleRateHz: 16000, Mark: mark}
}

// TestSwitchAtThePauseAfterTheSettleDelay: live audio goes to the
// temporary socket until the main one is ready and the settle delay has
// passed, then at the first pause to the main socket; the temporary input
// is closed there; every Audio goes whole to one side.
func TestSwitchAtThePauseAfterTheSettleDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := start(profile.Config{})
		r.in <- audio(0, stages.MarkSpeech)
		td.Cmp(t, (<-r.temp).Start, int64(0))
		close(r.ready)
		r.in <- audio(1600, stages.MarkSilence) // a pause, but before the settle delay is over
		td.Cmp(t, (<-r.temp).Start, int64(1600))
		time.Sleep(time.Second + time.Millisecond)
		r.in <- audio(3200, stages.MarkSpeech) // speech: no switch mid-word
		td.Cmp(t, (<-r.temp).Start, int64(3200))
		td.Cmp(t, r.sw.SwitchedAt(), int64(-1))
		r.in <- audio(4800, stages.MarkSilence)
		td.Cmp(t, (<-r.main).Start, int64(4800), "the pause goes to the main socket")
		_, open := <-r.temp
		td.CmpFalse(t, open, "the temporary socket's input is closed at the switch")
		td.Cmp(t, r.sw.SwitchedAt(), int64(4800))
		r.in <- audio(6400, stages.MarkSpeech)
		td.Cmp(t, (<-r.main).Start, int64(6400))
		close(r.in)
		td.CmpNoError(t, <-r.done)
		_, open = <-r.main
		td.CmpFalse(t, open)
	})
}

// TestSwitchWithoutAPause: with no pause (the gate off: no marks) the
// switch comes BoundaryWaitMs after the settle delay.
func TestSwitchWithoutAPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := start(profile.Config{SettleMs: 500, BoundaryWaitMs: 2000})
		close(r.ready)
		began := time.Now()
		_, open := <-r.temp
		td.CmpFalse(t, open)
		td.Cmp(t, time.Since(began), 2500*time.Millisecond)
		r.in <- audio(0, stages.MarkNone)
		td.Cmp(t, (<-r.main).Start, int64(0))
		td.Cmp(t, r.sw.SwitchedAt(), int64(0))
		close(r.in)
		td.CmpNoError(t, <-r.done)
	})
}

// TestSwitchWhenTheMainSocketNeverAnswers: MaxWaitMs after the start the
// switch comes anyway.
func TestSwitchWhenTheMainSocketNeverAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := start(profile.Config{MaxWaitMs: 7000})
		began := time.Now()
		_, open := <-r.temp
		td.CmpFalse(t, open)
		td.Cmp(t, time.Since(began), 7*time.Second)
		close(r.in)
		td.CmpNoError(t, <-r.done)
	})
}

// TestSwitchInputClosedBeforeTheSwitch: the client leaving before the
// switch closes both outputs.
func TestSwitchInputClosedBeforeTheSwitch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := start(profile.Config{})
		r.in <- audio(0, stages.MarkSpeech)
		<-r.temp
		close(r.in)
		td.CmpNoError(t, <-r.done)
		_, tempOpen := <-r.temp
		_, mainOpen := <-r.main
		td.CmpFalse(t, tempOpen)
		td.CmpFalse(t, mainOpen)
		td.Cmp(t, r.sw.SwitchedAt(), int64(-1))
	})
}

// TestSwitchHardStop: ctx ending returns its cause.
func TestSwitchHardStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		sw := profile.New(profile.Config{})
		in, temp, main := make(chan stages.Audio), make(chan stages.Audio), make(chan stages.Audio)
		done := make(chan error, 1)
		go func() { done <- sw.Run(ctx, in, make(chan struct{}), temp, main) }()
		cancel(context.DeadlineExceeded)
		td.CmpErrorIs(t, <-done, context.DeadlineExceeded)
	})
}
