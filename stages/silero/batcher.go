package silero

import (
	"fmt"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"earshot/stages"
)

// Defaults and bounds of BatchConfig.
const (
	DefaultMaxBatch = 32
	// DefaultMaxWaitMs is 2 ms: in the capacity harness (bench/README.md)
	// it saved as much CPU as 4 ms at 20 ms frames, and added less
	// latency to 100 ms frames, whose three windows wait in turn.
	DefaultMaxWaitMs = 2
	// MaxBatchLimit bounds BatchConfig.MaxBatch: a Batcher's scratch
	// takes about 10 KB per chunk of MaxBatch.
	MaxBatchLimit = 1024
)

// BatchConfig configures a Batcher. The zero value takes the defaults.
type BatchConfig struct {
	// MaxBatch is the most chunks one batch computes: a batch runs as
	// soon as it has this many. Zero or negative: DefaultMaxBatch; above
	// MaxBatchLimit: MaxBatchLimit.
	MaxBatch int
	// MaxWaitMs bounds, in milliseconds, how long a chunk waits for
	// others to join its batch: a batch runs when its first chunk was
	// submitted this long ago, if it is not full before. Zero:
	// DefaultMaxWaitMs; negative: no wait (a batch is whatever is queued
	// when the worker takes it).
	MaxWaitMs int
}

// BatchDeps are a Batcher's runtime dependencies.
type BatchDeps struct {
	// Metrics receives the batching metrics (earshot_vad_*). nil: none.
	// NewBatcher panics if they are already registered there (one
	// Batcher per set).
	Metrics *metrics.Set
}

// Batcher is the process-wide Silero VAD service: it gathers the chunks
// that the detectors of many sessions submit and runs them as batches
// (one run per sample rate; the results are the bits of Stream.Process),
// so that a network's weights (880 KB at 16 kHz) stream from memory once
// per batch instead of once per chunk.
//
// One worker goroutine, started by NewBatcher and stopped by Close, takes
// the chunks from a bounded queue. The first chunk of a batch starts its
// wait: the batch runs when it holds MaxBatch chunks, or when its first
// chunk was submitted MaxWaitMs ago, whichever comes first; each waiting
// detector then gets its chunk's probability. So a chunk waits at most
// MaxWaitMs plus the compute of its batch (plus, when the worker is
// behind, that of the batch before). Every session's state (context, LSTM)
// stays in its own Stream. A Batcher is safe for concurrent use.
type Batcher struct {
	model    *Model
	maxBatch int
	maxWait  time.Duration // negative: no wait
	met      batchMetrics

	reqs      chan *request
	done      chan struct{} // closed by Close
	stopped   chan struct{} // closed when the worker has returned
	closeOnce sync.Once

	// The worker's own.
	b       *batch
	pending []*request // the batch being gathered
	group   []*request // pending's chunks of one network, in b's order
	// hook, when set (by tests, before the first request), runs at the
	// start of every batch run, with the number of its chunks.
	hook func(chunks int)
}

// request is one detector's chunk on its way through the Batcher; each
// detector has one, reused for every chunk (no allocation per chunk).
type request struct {
	s      *Stream
	window []float32 // read in place: its Speech call waits for the result
	queued time.Time
	// reply has room for one answer, so that the worker never blocks on
	// it.
	reply chan answer
}

type answer struct {
	p   float32
	err error
}

// NewBatcher starts a Batcher on m's networks. Close it to stop its
// worker.
func NewBatcher(m *Model, cfg BatchConfig, deps BatchDeps) *Batcher {
	stages.Default(&cfg.MaxBatch, DefaultMaxBatch)
	cfg.MaxBatch = min(cfg.MaxBatch, MaxBatchLimit)
	stages.DefaultOrOff(&cfg.MaxWaitMs, DefaultMaxWaitMs)
	set := deps.Metrics
	if set == nil {
		set = metrics.NewSet() // never exposed
	}
	bt := &Batcher{
		model:    m,
		maxBatch: cfg.MaxBatch,
		maxWait:  time.Duration(cfg.MaxWaitMs) * time.Millisecond,
		met:      newBatchMetrics(set, cfg.MaxBatch),
		reqs:     make(chan *request, 2*cfg.MaxBatch),
		done:     make(chan struct{}),
		stopped:  make(chan struct{}),
		b:        newBatch(cfg.MaxBatch),
		pending:  make([]*request, 0, cfg.MaxBatch),
		group:    make([]*request, 0, cfg.MaxBatch),
	}
	go bt.work()
	return bt
}

// Close stops the worker and waits for it to return. The chunks waiting
// for a batch then, and every later Speech of the Batcher's detectors,
// fail at once with ErrClosed (a gate fails open on it). Close may be
// called more than once, from any goroutine.
func (bt *Batcher) Close() {
	bt.closeOnce.Do(func() { close(bt.done) })
	<-bt.stopped
}

func (bt *Batcher) closed() bool {
	select {
	case <-bt.done:
		return true
	default:
		return false
	}
}

// work is the worker: it gathers batches and runs them until Close.
func (bt *Batcher) work() {
	defer close(bt.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		if bt.closed() {
			bt.drain()
			return
		}
		select {
		case r := <-bt.reqs:
			bt.pending = append(bt.pending, r)
		case <-bt.done:
			bt.drain()
			return
		}
		if !bt.fill(timer) {
			bt.answerAll(bt.pending, answer{err: ErrClosed})
			bt.drain()
			return
		}
		bt.runPending()
	}
}

// fill adds chunks to the pending batch until it is full or its first
// chunk has waited maxWait; it reports false if the Batcher was closed
// meanwhile.
func (bt *Batcher) fill(timer *time.Timer) bool {
	wait := bt.maxWait - time.Since(bt.pending[0].queued)
	if wait > 0 && len(bt.pending) < bt.maxBatch {
		timer.Reset(wait)
		defer timer.Stop()
		for len(bt.pending) < bt.maxBatch {
			select {
			case r := <-bt.reqs:
				bt.pending = append(bt.pending, r)
			case <-timer.C:
				bt.take()
				return true
			case <-bt.done:
				return false
			}
		}
		return true
	}
	bt.take()
	return true
}

// take adds to the pending batch the chunks already queued, without
// waiting, up to maxBatch.
func (bt *Batcher) take() {
	for len(bt.pending) < bt.maxBatch {
		select {
		case r := <-bt.reqs:
			bt.pending = append(bt.pending, r)
		default:
			return
		}
	}
}

// drain answers ErrClosed to every chunk still queued.
func (bt *Batcher) drain() {
	for {
		select {
		case r := <-bt.reqs:
			r.send(answer{err: ErrClosed})
		default:
			return
		}
	}
}

// runPending runs the pending batch, one run per network, and answers
// every chunk.
func (bt *Batcher) runPending() {
	start := time.Now()
	bt.met.wait.Update(start.Sub(bt.pending[0].queued).Seconds())
	bt.met.chunks.Update(float64(len(bt.pending)))
	bt.met.total.Add(len(bt.pending))
	bt.runGroup(&bt.model.n16)
	bt.runGroup(&bt.model.n8)
	bt.met.run.UpdateDuration(start)
	clear(bt.pending)
	bt.pending = bt.pending[:0]
}

// runGroup runs the pending chunks on network n (every detector's Stream
// is on one of the model's two) and answers them: each its probability,
// or all the same error if the run panicked.
func (bt *Batcher) runGroup(n *network) {
	bt.group = bt.group[:0]
	for _, r := range bt.pending {
		if r.s.n == n {
			bt.group = append(bt.group, r)
		}
	}
	if len(bt.group) == 0 {
		return
	}
	if err := bt.safeRun(); err != nil {
		bt.met.panics.Inc()
		bt.answerAll(bt.group, answer{err: err})
	} else {
		for i, r := range bt.group {
			r.send(answer{p: bt.b.probs[i]})
		}
	}
	bt.b.reset()
	clear(bt.group)
}

// safeRun runs bt.group as one batch, turning a panic into an error
// wrapping ErrBatchPanic. The Streams of a batch that panicked may be
// left half updated: their gates fail open on the error and stop.
func (bt *Batcher) safeRun() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrBatchPanic, r)
		}
	}()
	bt.b.reset()
	if bt.hook != nil {
		bt.hook(len(bt.group))
	}
	for _, r := range bt.group {
		bt.b.add(r.s, r.window)
	}
	bt.b.run()
	return nil
}

func (bt *Batcher) answerAll(rs []*request, a answer) {
	for _, r := range rs {
		r.send(a)
	}
}

// send gives r its answer; it never blocks (a detector used against its
// contract, from two goroutines at once, may lose one).
func (r *request) send(a answer) {
	select {
	case r.reply <- a:
	default:
	}
}
