package retry_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/retry"
	"earshot/stages/stagestest"
)

// TestConnectResumesWhenTheProbeSucceeds: sessions turned away by an
// open breaker (one for the rest of the open period, one while the probe
// is in flight) dial again as soon as the probe succeeds, each after its
// own draw within BreakerResumeSpread, not at the end of their waits.
func TestConnectResumesWhenTheProbeSucceeds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := tripped(t, retry.BreakerConfig{FailureThreshold: 1, FirstOpenMs: 4000, OpenMs: 30000}, nil)
		start := time.Now()
		opts := func(u float64) retry.Options {
			return retry.Options{
				Backoff: retry.BackoffConfig{BaseMs: 1000, Attempts: 10},
				Rand:    func() float64 { return u },
				Breaker: b,
			}
		}
		dialedAt := make(chan time.Duration, 2)
		ok := func(context.Context) (stages.Stream, error) {
			dialedAt <- time.Since(start)
			return stagestest.NewStream(1), nil
		}
		// Turned away for the rest of the open period (4 s).
		go func() { _, _ = retry.Connect(t.Context(), ok, opts(0.2)) }()
		synctest.Wait()

		time.Sleep(4 * time.Second)
		release := make(chan struct{})
		probe := func(context.Context) (stages.Stream, error) {
			<-release
			return stagestest.NewStream(1), nil
		}
		probed := make(chan error, 1)
		go func() { _, err := retry.Connect(t.Context(), probe, opts(0.5)); probed <- err }()
		synctest.Wait() // the probe is in flight
		// Turned away while it is: BreakerProbeWait (1 s).
		go func() { _, _ = retry.Connect(t.Context(), ok, opts(0.3)) }()
		synctest.Wait()

		time.Sleep(300 * time.Millisecond)
		close(release)
		td.CmpNoError(t, <-probed)
		td.Cmp(t, b.State(), retry.BreakerClosed)
		got := []time.Duration{<-dialedAt, <-dialedAt}
		td.Cmp(t, got, []time.Duration{
			4300*time.Millisecond + retry.BreakerResumeSpread/5,    // its draw: 0.2
			4300*time.Millisecond + retry.BreakerResumeSpread*3/10, // 0.3
		}, "both within BreakerResumeSpread of the probe's success")
	})
}

// TestBreakerClosedChannel: Closed is closed while the breaker is, stays
// open from a trip until a probe succeeds, and a failed probe keeps it so.
func TestBreakerClosedChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		closed := func(b *retry.Breaker) bool {
			select {
			case <-b.Closed():
				return true
			default:
				return false
			}
		}
		b := retry.NewBreaker("deepgram", retry.BreakerConfig{FailureThreshold: 1, FirstOpenMs: 1000}, nil)
		td.CmpTrue(t, closed(b), "closed breaker")
		b.Failure()
		td.CmpFalse(t, closed(b), "tripped")
		wait := b.Closed()
		time.Sleep(time.Second)
		td.Cmp(t, allow(b), allowed{OK: true})
		b.Failure()
		td.CmpFalse(t, closed(b), "the probe failed")
		time.Sleep(2 * time.Second)
		td.Cmp(t, allow(b), allowed{OK: true})
		b.Success()
		td.CmpTrue(t, closed(b))
		select {
		case <-wait:
		default:
			t.Error("a channel taken when it opened is closed by the success")
		}
	})
}
