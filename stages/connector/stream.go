package connector

import (
	"context"
	"fmt"
	"time"

	"earshot/stages"
)

// stream runs one open upstream stream. It returns nil after a soft stop
// (the input closed; CloseStream sent; the last results forwarded or the
// close timeout passed), ctx's cause after a hard stop, and otherwise the
// error that ended the stream (classify it to decide whether to reconnect).
//
// It first replays the ring: every sample no final result has covered yet,
// then goes on with live audio. Results are mapped onto the capture clock;
// words that start before the point final results had already covered when
// this stream opened are dropped, so replayed audio never yields a word
// twice.
//
// I/O on the stream uses a context that never expires (an expiring context
// tears a WebSocket down mid-frame and costs a registration per call); the
// stream is torn down by Close when ctx ends. The receiving goroutine is
// owned by this call and joined before it returns.
//
// announce, if not nil, is sent before the stream's first result: a
// failover's recovery, which counts only once the new provider answers.
func (c *Connector) stream(ctx context.Context, st *connState, s stages.Stream, out chan<- stages.Update, announce *stages.Update) error {
	stop := context.AfterFunc(ctx, func() { _ = s.Close() })
	defer stop()

	st.ring.ack(st.acked)
	// Audio the ring evicted while the last stream was open and that no
	// final covered since is lost.
	c.settleLost(st)
	if c.cfg.ReplayMaxMs < 0 && st.streams > 0 {
		// No replay (for comparisons): what the last stream did not
		// cover and what came meanwhile are lost.
		c.lose(st.ring.discard())
		st.acked = max(st.acked, st.wordsEnd)
	}
	if replayed := st.ring.rewind(); replayed > 0 {
		c.replayed(replayed)
	}
	r := c.open(ctx, st, s, out, announce)
	defer r.stop()
	if err := r.sendPrefix(); err != nil {
		return err
	}
	replaying := st.ring.held() > 0
	if err := r.flush(); err != nil {
		return err
	}
	if replaying {
		r.sent()
	}
	return r.loop(ctx)
}

// streamRun is one open upstream stream: the state of stream's loop and a
// method per event it handles. Owned by that loop; not concurrent (the
// receiver's counters are atomic).
type streamRun struct {
	c        *Connector
	st       *connState
	s        stages.Stream
	ioCtx    context.Context // never expires; see stream
	link     *Link           // the stream's provider
	opened   time.Time
	rx       *receiver
	recvDone chan error

	idle      time.Duration
	keepAlive *time.Timer
	stall     *stallWatch
	pause     *watch
	// finalizedTo is st.wordsEnd when a Finalize was last sent on this
	// stream: the words up to it were asked for.
	finalizedTo int64
	// Fail-back (failback.go): the periodic check on a later provider,
	// a dial in flight, its context and outcome.
	fbTicker  *time.Ticker
	fbDialing bool
	fbCtx     context.Context
	fbCancel  context.CancelFunc
	fbDone    chan failbackDial
	// Pacing (Link.PaceReplay): samples sent on this stream, and the
	// timer that sends more of a backlog when the pace allows.
	paced     int64
	paceTimer *time.Timer
	// Idle close (idle.go): the gate holds the audio back since the
	// timer was armed.
	held      bool
	idleTimer *time.Timer
	// Coalescing (sendNext): the entries of the message being sent, and
	// the buffer their audio is copied into.
	batch []stages.Audio
	msg   []byte
}

// open starts the receiver of s and the loop's timers.
func (c *Connector) open(ctx context.Context, st *connState, s stages.Stream, out chan<- stages.Update, announce *stages.Update) *streamRun {
	st.streams++
	r := &streamRun{
		c: c, st: st, s: s, ioCtx: context.WithoutCancel(ctx),
		link: &c.links()[st.link], opened: time.Now(),
		rx: &receiver{
			c: c, s: s, out: out, stream: st.streams, provider: c.name(st),
			announce: announce, failingSince: st.failingSince,
			clock:        NewClockMap(c.sc.SampleRateHz),
			dedupeBefore: stages.SamplesToSeconds(st.acked, c.sc.SampleRateHz),
		},
		recvDone:    make(chan error, 1),
		idle:        time.Duration(c.cfg.KeepAliveIdleMs) * time.Millisecond,
		stall:       newStallWatch(c.cfg.StallTimeoutMs),
		pause:       newWatch(c.cfg.FinalizeIdleMs),
		finalizedTo: -1,
	}
	r.keepAlive = time.NewTimer(r.idle)
	r.paceTimer = time.NewTimer(time.Hour)
	r.paceTimer.Stop()
	r.idleTimer = time.NewTimer(time.Hour)
	r.idleTimer.Stop()
	r.fbCtx, r.fbCancel = context.WithCancel(ctx)
	r.fbDone = make(chan failbackDial, 1)
	if st.link > 0 && c.cfg.FailbackCheckMs > 0 {
		r.fbTicker = time.NewTicker(time.Duration(c.cfg.FailbackCheckMs) * time.Millisecond)
	}
	r.rx.acked.Store(st.acked)
	if n := int64(len(c.deps.Prefix) / 2); n > 0 {
		r.rx.clock.Skip(n)
		r.rx.prefixSec = stages.SamplesToSeconds(n, c.sc.SampleRateHz)
	}
	go func() { r.recvDone <- r.rx.run(ctx, r.ioCtx) }()
	return r
}

// stop releases the loop's timers; a stream that answered ended the
// outage, if one was on.
func (r *streamRun) stop() {
	r.stopFailback()
	r.paceTimer.Stop()
	r.idleTimer.Stop()
	r.c.streamTime(r.link, time.Since(r.opened))
	if r.rx.results.Load() > 0 {
		r.st.failingSince = time.Time{}
	}
	r.keepAlive.Stop()
	r.stall.stop()
	r.pause.stop()
}

// loop handles the stream's events until it ends.
func (r *streamRun) loop(ctx context.Context) error {
	for {
		var err error
		select {
		case a, ok := <-r.st.in:
			if !ok {
				return r.closeInput(ctx)
			}
			err = r.audio(a)
		case <-r.pause.c():
			// The audio paused: ask for the pending words once,
			// unless finals cover them or they were asked for.
			err = r.finalize(finalizePause)
		case <-r.keepAlive.C:
			err = r.keepAliveNow()
		case <-r.stall.c():
			err = r.stallCheck()
		case <-r.paceTicks():
			err = r.flush()
		case <-r.idleTicks():
			err = r.idleDue(ctx)
		case <-r.failbackTicks():
			r.failbackTick()
		case d := <-r.fbDone:
			err = r.failbackDialed(d)
		case err := <-r.recvDone:
			return r.ended(ctx, err)
		case <-ctx.Done():
			r.c.join(r.recvDone)
			return context.Cause(ctx)
		}
		if err != nil {
			return err
		}
	}
}

// audio takes a frame from the input into the ring and sends it, with the
// Finalize the gate's silence calls for at its point.
func (r *streamRun) audio(a stages.Audio) error {
	took, err := r.take(a)
	// Frames that queued up behind a (they waited for this goroutine)
	// join it before the flush, which sends them as one message.
	for n := 0; err == nil && n < maxDrain; n++ {
		var b stages.Audio
		var ok bool
		select {
		case b, ok = <-r.st.in:
		default:
		}
		if !ok { // nothing waiting, or the input closed: loop sees that
			break
		}
		var t bool
		t, err = r.take(b)
		took = took || t
	}
	if err != nil || !took {
		return err
	}
	if err := r.flush(); err != nil {
		return err
	}
	r.sent()
	return nil
}

// maxDrain bounds the frames audio takes from the input beyond the one it
// was given, so that the loop's timers are not starved by a long backlog.
const maxDrain = 16

// take puts a in the ring (or lets the silence logic hold it), flushing
// and finalizing first when the gate's silence makes a Finalize due; it
// reports whether a went into the ring.
func (r *streamRun) take(a stages.Audio) (bool, error) {
	r.holding(a)
	return r.st.take(a, func() error {
		if err := r.flush(); err != nil {
			return err
		}
		return r.finalize(finalizeSilence)
	})
}

// sent restarts the timers that watch the audio sent.
func (r *streamRun) sent() {
	r.stall.sent(r.rx.results.Load())
	r.pause.reset()
	r.keepAlive.Reset(r.idle)
}

// flush sends what the ring has not sent on this stream yet, within the
// provider's pace if it has one (the rest when the pace timer fires).
// Audio that has queued in the ring goes in messages of up to
// MessageMaxMs (see sendNext).
func (r *streamRun) flush() error {
	r.st.ring.ack(r.rx.acked.Load())
	for {
		more, err := r.sendNext()
		if err != nil || !more {
			return err
		}
	}
}

// sendNext sends the oldest audio not sent on this stream in one message:
// that entry of the ring alone when nothing follows it (no copy), else
// with the entries after it, copied together, up to MessageMaxMs of audio
// and what the pace allows. It reports whether it sent anything.
func (r *streamRun) sendNext() (bool, error) {
	ring := r.st.ring
	a, ok := ring.next()
	if !ok {
		return false, nil
	}
	if wait := r.paceWait(a.Samples()); wait > 0 {
		ring.unsend()
		r.paceTimer.Reset(wait)
		return false, nil
	}
	r.batch = append(r.batch[:0], a)
	msg, total := a.PCM, a.Samples()
	if maxN := r.c.messageMaxSamples(); maxN > 0 && ring.unsent() > 0 {
		// a.PCM is valid only until the ring's next call: copy first.
		r.msg = append(r.msg[:0], a.PCM...)
		for total < maxN {
			b, ok := ring.next()
			if !ok {
				break
			}
			if total+b.Samples() > maxN || r.paceWait(total+b.Samples()) > 0 {
				ring.unsend()
				break
			}
			r.msg = append(r.msg, b.PCM...)
			r.batch = append(r.batch, b)
			total += b.Samples()
		}
		msg = r.msg
	}
	// The clock learns of the audio before the provider gets it: a fast
	// provider (an in-process one, or a test's) may answer before
	// SendAudio returns, and its words must map onto this audio's capture
	// times, not onto a clock without it (where a replay's words would
	// look like the earlier stream's and be dropped). A failed send ends
	// the stream, and its clock with it.
	for _, b := range r.batch {
		r.rx.clock.Sent(b) // only b's Start and length are read
	}
	r.paced += total
	if err := r.s.SendAudio(r.ioCtx, msg); err != nil {
		for range r.batch {
			ring.unsend()
		}
		return false, r.sendFailed(err)
	}
	r.c.sentAudio(r.link, total)
	return true, nil
}

// paceWait is how long until the provider's pace lets n more samples go
// on this stream: 0 when they may go now (or the provider has no pace).
// The stream's first audio always goes, however long.
func (r *streamRun) paceWait(n int64) time.Duration {
	pace := r.link.PaceReplay
	if pace <= 0 || r.paced == 0 {
		return 0
	}
	rate := float64(r.c.sc.SampleRateHz)
	allowed := (float64(r.link.PaceBurstMs)/1000 + time.Since(r.opened).Seconds()*pace) * rate
	over := float64(r.paced+n) - allowed
	if over <= 0 {
		return 0
	}
	return time.Duration(over/(pace*rate)*float64(time.Second)) + time.Millisecond
}

// paceTicks is the pace timer's channel.
func (r *streamRun) paceTicks() <-chan time.Time { return r.paceTimer.C }

// finalize is the connector's one Finalize decision: it asks the upstream
// to finalize what it heard, unless final results cover every word sent or
// they were asked for already on this stream; a stall probe asks
// regardless, to get an answer. Each Finalize sent is counted by cause.
func (r *streamRun) finalize(cause finalizeCause) error {
	words := r.st.wordsEnd
	if cause != finalizeStallProbe && (r.rx.acked.Load() >= words || r.finalizedTo >= words) {
		return nil
	}
	if err := r.s.SendControl(r.ioCtx, stages.ControlFinalize); err != nil {
		return r.sendFailed(err)
	}
	r.finalizedTo = words
	r.c.finalized(cause)
	return nil
}

// keepAliveNow sends a KeepAlive after KeepAliveIdleMs without audio.
func (r *streamRun) keepAliveNow() error {
	if err := r.s.SendControl(r.ioCtx, stages.ControlKeepAlive); err != nil {
		return r.sendFailed(err)
	}
	r.c.keptAlive()
	r.keepAlive.Reset(r.idle)
	return nil
}

// stallCheck judges a stream that has not answered for half the stall
// timeout: a probe first, then replacement.
func (r *streamRun) stallCheck() error {
	switch r.stall.fire(r.rx.results.Load()) {
	case stallProbe:
		return r.finalize(finalizeStallProbe)
	case stallDead:
		r.c.deps.Metrics.Stalls.Inc()
		_ = r.s.Close()
		r.c.join(r.recvDone)
		return r.fail(&stages.UpstreamError{Code: "STALL", Err: ErrStalled,
			Reason: fmt.Sprintf("no result for %d ms", r.c.cfg.StallTimeoutMs)})
	}
	return nil
}

// ended handles the receiver's end: the provider ended the stream, or it
// failed.
func (r *streamRun) ended(ctx context.Context, err error) error {
	_ = r.s.Close()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if err == nil {
		err = &stages.UpstreamError{CloseCode: 1000, Reason: "upstream ended the stream unasked"}
	}
	return r.fail(err)
}

// closeInput is the soft stop: the input closed. It ends the stream with
// CloseStream. Audio the ring evicted before a final covered it is lost;
// so is what it still holds when the upstream did not finish the stream
// (CloseStream failed, timed out or was cut short): its results may never
// have come. After a normal end the upstream answered for all it heard,
// even where its finals do not reach the last sample (a recognizer's
// 10 ms frames, trailing silence), so nothing held is lost.
func (r *streamRun) closeInput(ctx context.Context) error {
	st := r.st
	st.in = nil
	finished, err := r.c.closeStream(ctx, r.ioCtx, r.s, r.recvDone)
	st.acked = max(st.acked, r.rx.acked.Load())
	st.ring.ack(st.acked)
	r.c.settleLost(st)
	if !finished {
		r.c.lose(st.ring.held())
	}
	return err
}

// sendFailed closes the stream after a failed send and returns the
// better of the two errors: the receiver's, when it saw a permanent end
// (e.g. close 1008), else the send error as a retryable upstream failure.
func (r *streamRun) sendFailed(sendErr error) error {
	return r.fail(r.c.sendFailed(r.s, r.recvDone, sendErr))
}

// fail records how far finals covered the audio before the stream ends
// with err, and returns err.
func (r *streamRun) fail(err error) error {
	r.st.acked = max(r.st.acked, r.rx.acked.Load())
	return err
}
