package gate

import (
	"context"
	"slices"

	"earshot/stages"
)

// gatePhase is the state of the gate's machine.
type gatePhase int

const (
	phaseSilence  gatePhase = iota // holding pre-roll
	phaseSpeech                    // sending
	phaseHangover                  // sending the silence after speech
)

// gateRun is one Run of a gate: the state machine and its buffers. Not
// safe for concurrent use.
//
// The machine runs the same in shadow mode; only emit then sends nothing
// (frame sends the whole frame instead), so Held counts what an active
// gate would have held.
type gateRun struct {
	g      *Gate
	ctx    context.Context
	out    chan<- stages.Audio
	det    *detection // nil: pass everything through (off, or failed open)
	shadow bool

	phase     gatePhase
	preroll   []stages.Audio // held audio, contiguous, in capture order
	prerolled int64          // samples in preroll
	silent    int64          // silence samples sent since the speech ended

	prerollN, hangN int64 // samples; 0 means none
}

func (g *Gate) newRun(ctx context.Context, out chan<- stages.Audio) *gateRun {
	ms := func(v int) int64 { return int64(max(v, 0)) * int64(g.rateHz) / 1000 }
	return &gateRun{
		g: g, ctx: ctx, out: out, shadow: g.mode == Shadow,
		prerollN: ms(g.cfg.PrerollMs), hangN: ms(g.cfg.HangoverMs),
	}
}

// frame handles one frame from the input.
func (r *gateRun) frame(a stages.Audio) error {
	g := r.g
	if r.shadow { // sent now and held by the machine: two holders
		a.Pooled = false
	}
	g.captured.Add(a.Samples())
	if r.det == nil {
		return r.send(a)
	}
	speech, err := r.det.frame(a.PCM)
	if err != nil {
		r.det = nil
		g.failOpen(err)
		if r.shadow { // the pre-roll was sent already
			r.clearPreroll()
		} else if err := r.flushPreroll(stages.MarkNone); err != nil {
			return err
		}
		return r.send(a)
	}
	if speech {
		g.speech.Add(a.Samples())
		g.deps.Metrics.SpeechSeconds.Add(g.seconds(a.Samples()))
	}
	if err := r.step(a, speech); err != nil {
		return err
	}
	if r.shadow {
		return r.send(a)
	}
	return nil
}

// step moves the machine by one frame.
func (r *gateRun) step(a stages.Audio, speech bool) error {
	if speech {
		if r.phase == phaseSilence {
			r.g.onsets.Add(1)
			r.g.deps.Metrics.Onsets.Inc()
			if err := r.flushPreroll(stages.MarkSpeech); err != nil {
				return err
			}
		}
		r.phase, r.silent = phaseSpeech, 0
		a.Mark = stages.MarkSpeech
		return r.emit(a)
	}
	if r.phase == phaseSilence {
		r.hold(a)
		return nil
	}
	r.phase = phaseHangover
	return r.hangover(a)
}

// hangover sends the silence after speech (MarkSilence) until HangoverMs
// of it went out, split where the hangover ends; there it says that it
// holds audio back from then on (MarkHold) and holds the rest as pre-roll.
func (r *gateRun) hangover(a stages.Audio) error {
	part, rest := a.Split(r.hangN - r.silent)
	if part.Samples() > 0 {
		part.Mark = stages.MarkSilence
		if err := r.emit(part); err != nil {
			return err
		}
		r.silent += part.Samples()
	}
	if r.silent < r.hangN {
		return nil
	}
	r.phase = phaseSilence
	if err := r.emit(stages.Audio{Start: rest.Start, SampleRateHz: a.SampleRateHz, Mark: stages.MarkHold}); err != nil {
		return err
	}
	r.hold(rest)
	return nil
}

// hold keeps a as pre-roll, dropping (and counting as held) whatever is
// older than PrerollMs.
func (r *gateRun) hold(a stages.Audio) {
	if a.Samples() == 0 {
		return
	}
	r.preroll = append(r.preroll, a)
	r.prerolled += a.Samples()
	for r.prerolled > r.prerollN {
		head := r.preroll[0]
		n := min(head.Samples(), r.prerolled-r.prerollN)
		r.dropHeld(n)
		r.prerolled -= n
		if n == head.Samples() {
			head.Release()
			r.preroll = slices.Delete(r.preroll, 0, 1)
		} else {
			_, r.preroll[0] = head.Split(n)
		}
	}
}

// flushPreroll emits the held pre-roll, oldest first, marked mark.
func (r *gateRun) flushPreroll(mark stages.Mark) error {
	for i, a := range r.preroll {
		r.preroll[i] = stages.Audio{}
		a.Mark = mark
		if err := r.emit(a); err != nil {
			return err
		}
	}
	r.clearPreroll()
	return nil
}

// clearPreroll forgets the held pre-roll, giving back its buffers.
func (r *gateRun) clearPreroll() {
	for _, a := range r.preroll {
		a.Release()
	}
	clear(r.preroll)
	r.preroll, r.prerolled = r.preroll[:0], 0
}

// end counts the pre-roll left when the input closed as held: it is
// never sent.
func (r *gateRun) end() {
	r.dropHeld(r.prerolled)
	r.clearPreroll()
}

// dropHeld counts samples the gate holds back for good.
func (r *gateRun) dropHeld(n int64) {
	if n <= 0 {
		return
	}
	r.g.held.Add(n)
	if r.shadow {
		r.g.deps.Metrics.ShadowHeldSeconds.Add(r.g.seconds(n))
	} else {
		r.g.deps.Metrics.HeldSeconds.Add(r.g.seconds(n))
	}
}

// emit is the machine's output: sent in active mode, nothing in shadow
// mode (frame sends the frame itself).
func (r *gateRun) emit(a stages.Audio) error {
	if r.shadow {
		return nil
	}
	return r.send(a)
}

// send puts a on the output, counting its samples as sent.
func (r *gateRun) send(a stages.Audio) error {
	if err := stages.Send(r.ctx, r.out, a); err != nil {
		return err
	}
	r.g.sent.Add(a.Samples())
	return nil
}
