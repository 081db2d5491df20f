// Package profile is the switch stage of a speech-profile session: live
// audio goes to a temporary upstream socket while the main socket works
// through the user's profile (sent first, as its prefix), then to the main
// socket (DESIGN.md, the session graphs; spec/listen-protocol.md,
// "Session kinds").
package profile

import (
	"context"
	"sync/atomic"
	"time"

	"earshot/stages"
)

// Defaults of Config.
const (
	DefaultSettleMs       = 1000
	DefaultBoundaryWaitMs = 3000
	DefaultMaxWaitMs      = 30000
)

// Config times the switch. Zero fields take the defaults.
type Config struct {
	// SettleMs is how long live audio still goes to the temporary socket
	// after the main socket worked through the prefix. Default 1000.
	SettleMs int
	// BoundaryWaitMs: after the settle delay the switch waits for a pause
	// in the speech (the gate's hangover silence or a hold) so that no
	// word is cut in two between the sockets, at most this long. Default
	// 3000.
	BoundaryWaitMs int
	// MaxWaitMs bounds the wait for the main socket: this long after Run
	// started the switch comes whatever the main socket did (a provider
	// that never answers the prefix). Default 30000.
	MaxWaitMs int
}

// Switch routes a speech-profile session's live audio (see the package).
// Its Stats may be read concurrently with Run.
type Switch struct {
	cfg Config
	at  atomic.Int64 // capture index of the first audio sent to main; -1 before
}

// New returns a Switch.
func New(cfg Config) *Switch {
	stages.Default(&cfg.SettleMs, DefaultSettleMs)
	stages.Default(&cfg.BoundaryWaitMs, DefaultBoundaryWaitMs)
	stages.Default(&cfg.MaxWaitMs, DefaultMaxWaitMs)
	s := &Switch{cfg: cfg}
	s.at.Store(-1)
	return s
}

// SwitchedAt is the capture index of the first live audio the main
// socket got, or -1 before the switch.
func (s *Switch) SwitchedAt() int64 { return s.at.Load() }

// Run reads live audio from in and sends it to temp until the switch,
// then to main. The caller closes ready when the main socket has worked
// through the prefix; then, after SettleMs, the switch comes at the first
// audio that starts a pause (a MarkSilence or MarkHold) or after
// BoundaryWaitMs, whichever is first; and at the latest MaxWaitMs after
// Run began. An Audio is never split: each goes whole to one side, so the
// sockets' audio tiles the capture clock, with no sample sent to both and
// none to neither.
//
// Run owns temp and main: it closes temp at the switch (the soft stop of
// the temporary socket, which then finishes its last results) and both
// when in is closed (then it returns nil) or ctx is done (it returns ctx's
// cause). Every send and receive selects on ctx.
func (s *Switch) Run(ctx context.Context, in <-chan stages.Audio, ready <-chan struct{}, temp, main chan<- stages.Audio) error {
	tempOpen := true
	defer func() {
		if tempOpen {
			close(temp)
		}
		close(main)
	}()
	maxWait := time.NewTimer(time.Duration(s.cfg.MaxWaitMs) * time.Millisecond)
	defer maxWait.Stop()
	phase := time.NewTimer(0) // settle, then the boundary wait
	phase.Stop()
	defer phase.Stop()
	var phaseC <-chan time.Time
	settled := false // the settle delay is over: switch at a pause
	for tempOpen {
		select {
		case <-ready:
			ready = nil
			phase.Reset(time.Duration(s.cfg.SettleMs) * time.Millisecond)
			phaseC = phase.C
		case <-phaseC:
			if settled {
				tempOpen = false // no pause came in time
				break
			}
			settled = true
			phase.Reset(time.Duration(s.cfg.BoundaryWaitMs) * time.Millisecond)
		case <-maxWait.C:
			tempOpen = false
		case a, ok := <-in:
			if !ok {
				return nil
			}
			if settled && (a.Mark == stages.MarkSilence || a.Mark == stages.MarkHold) {
				tempOpen = false
				close(temp)
				s.at.Store(a.Start)
				return s.forward(ctx, in, main, a)
			}
			if err := stages.Send(ctx, temp, a); err != nil {
				a.Release()
				return err
			}
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	close(temp)
	return s.forward(ctx, in, main, stages.Audio{Start: -1})
}

// forward sends first (unless its Start is -1) and then the rest of in
// to main.
func (s *Switch) forward(ctx context.Context, in <-chan stages.Audio, main chan<- stages.Audio, first stages.Audio) error {
	if first.Start >= 0 {
		if err := stages.Send(ctx, main, first); err != nil {
			first.Release()
			return err
		}
	}
	for {
		a, ok, err := stages.Recv(ctx, in)
		if err != nil || !ok {
			return err
		}
		s.at.CompareAndSwap(-1, a.Start)
		if err := stages.Send(ctx, main, a); err != nil {
			a.Release()
			return err
		}
	}
}
