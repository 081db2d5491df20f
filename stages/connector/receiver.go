package connector

import (
	"context"
	"errors"
	"io"
	"math"
	"sync/atomic"
	"time"

	"earshot/stages"
)

// receiver is the goroutine that reads one stream's results.
type receiver struct {
	c      *Connector
	s      stages.Stream
	out    chan<- stages.Update
	stream int // Result.Stream of its results
	clock  *ClockMap
	// dedupeBefore: words starting before this capture second were
	// already emitted from an earlier stream.
	dedupeBefore float64
	// acked is the capture index final results cover up to; results
	// counts every result received (the stall watch reads both).
	acked   atomic.Int64
	results atomic.Int64
	// endpoint says the latest final result was an endpoint
	// (SpeechFinal), for the fail-back's utterance boundary.
	endpoint atomic.Bool
	// prefixSec is the provider time the stream's prefix takes (0: none);
	// prefixDone that a result reached past it (prefix.go).
	prefixSec  float64
	prefixDone bool
	// provider names the stream's provider (Result.Provider); announce,
	// if not nil, goes out before the first result (a failover's
	// recovery), and failingSince is when the outage before this stream
	// began (zero: none), for the failover time.
	provider     string
	announce     *stages.Update
	failingSince time.Time
}

// run forwards results until the stream ends. It returns nil when the
// provider ended the stream normally.
func (r *receiver) run(ctx, ioCtx context.Context) error {
	rate := float64(r.c.sc.SampleRateHz)
	for {
		res, err := r.s.Recv(ioCtx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		r.results.Add(1)
		if r.announce != nil {
			if !r.failingSince.IsZero() {
				r.c.deps.Metrics.FailoverSeconds.UpdateDuration(r.failingSince)
			}
			if err := stages.Send(ctx, r.out, *r.announce); err != nil {
				return err
			}
			r.announce = nil
		}
		if r.prefixSec > 0 {
			done, only := r.prefix(&res)
			if done {
				if err := stages.Send(ctx, r.out, stages.Update{Kind: stages.EventPrefixDone, Provider: r.provider}); err != nil {
					return err
				}
			}
			if only {
				continue // prefix audio only: nothing on the capture clock
			}
		}
		res = r.clock.MapResult(res)
		if res.IsFinal {
			r.endpoint.Store(res.SpeechFinal)
			end := int64(math.Round((res.StartSec + res.DurationSec) * rate))
			if end > r.acked.Load() {
				r.acked.Store(end)
			}
		}
		res.Words = r.fresh(res.Words)
		res.Stream = r.stream
		res.Provider = r.provider
		if err := stages.Send(ctx, r.out, stages.Update{Kind: stages.EventResult, Result: res}); err != nil {
			return err
		}
	}
}

// fresh drops words an earlier stream already emitted (from replayed
// audio), in place.
func (r *receiver) fresh(words []stages.Word) []stages.Word {
	const toleranceSec = 0.001
	kept := words[:0]
	for _, w := range words {
		if w.StartSec >= r.dedupeBefore-toleranceSec {
			kept = append(kept, w)
		} else {
			r.c.deps.Metrics.DuplicateWords.Inc()
		}
	}
	return kept
}
