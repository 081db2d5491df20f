package retry_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/retry"
	"earshot/stages/stagestest"
)

// scripted is a DialFunc that fails with errs in order, then succeeds, and
// records when each dial happened (fake time inside a synctest bubble).
type scripted struct {
	errs  []error
	at    []time.Duration
	start time.Time
	s     stages.Stream
}

func (d *scripted) dial(ctx context.Context) (stages.Stream, error) {
	d.at = append(d.at, time.Since(d.start))
	if n := len(d.at) - 1; n < len(d.errs) {
		return nil, d.errs[n]
	}
	return d.s, nil
}

var (
	errDown   = &stages.UpstreamError{HTTPStatus: 503, Code: "UNAVAILABLE"}
	errNoAuth = &stages.UpstreamError{HTTPStatus: 401, Code: "INVALID_AUTH"}
)

func TestConnectFirstSuccessDoesNotWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		want := stagestest.NewStream(1)
		d := &scripted{start: time.Now(), s: want}
		got, err := retry.Connect(t.Context(), d.dial, retry.Options{Backoff: retry.BackoffConfig{}, Rand: stagestest.Half})
		td.CmpNoError(t, err)
		td.Cmp(t, got, want)
		td.Cmp(t, d.at, []time.Duration{0})
	})
}

func TestConnectTwoFailuresThenSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &scripted{errs: []error{errDown, errDown}, start: time.Now(), s: stagestest.NewStream(1)}
		var waits []time.Duration
		got, err := retry.Connect(t.Context(), d.dial, retry.Options{
			Backoff: retry.BackoffConfig{BaseMs: 1000, Attempts: 3}, Rand: stagestest.Half,
			OnRetry: func(_ error, w time.Duration) { waits = append(waits, w) },
		})
		td.CmpNoError(t, err)
		td.CmpNotNil(t, got)
		// Full jitter with u=0.5: half of 1 s, then half of 2 s.
		td.Cmp(t, waits, []time.Duration{500 * time.Millisecond, time.Second})
		td.Cmp(t, d.at, []time.Duration{0, 500 * time.Millisecond, 1500 * time.Millisecond})
	})
}

func TestConnectOtherSessionsKeepFlowingDuringWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &scripted{errs: []error{errDown, errDown}, start: time.Now(), s: stagestest.NewStream(1)}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = retry.Connect(t.Context(), d.dial, retry.Options{Backoff: retry.BackoffConfig{BaseMs: 1000, Attempts: 3}, Rand: stagestest.Half})
		}()
		// Another session's traffic is served while the first one waits.
		ticks := 0
		for range 10 {
			time.Sleep(100 * time.Millisecond)
			ticks++
		}
		td.Cmp(t, ticks, 10)
		td.Cmp(t, time.Since(d.start), time.Second)
		<-done
		td.Cmp(t, len(d.at), 3)
	})
}

func TestConnectExhaustedReturnsLastError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		last := &stages.UpstreamError{HTTPStatus: 429, Code: "TOO_MANY_REQUESTS"}
		d := &scripted{errs: []error{errDown, errDown, last}, start: time.Now()}
		got, err := retry.Connect(t.Context(), d.dial, retry.Options{Backoff: retry.BackoffConfig{Attempts: 3}, Rand: stagestest.Half})
		td.CmpNil(t, got)
		td.Cmp(t, err, td.Ptr(td.Struct(stages.UpstreamError{HTTPStatus: 429}, nil)))
		td.CmpTrue(t, errors.Is(err, stages.ErrRetryable))
		td.Cmp(t, len(d.at), 3)
	})
}

func TestConnectClientGoneBeforeFirstAttempt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := &scripted{start: time.Now()}
	got, err := retry.Connect(ctx, d.dial, retry.Options{Backoff: retry.BackoffConfig{}, Rand: stagestest.Half})
	td.CmpNil(t, got)
	td.CmpTrue(t, errors.Is(err, stages.ErrAborted))
	td.Cmp(t, stages.Classify(err), stages.ClassAborted)
	td.CmpEmpty(t, d.at, "no dial at all")
}

func TestConnectClientGoneDuringWaitStopsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		d := &scripted{errs: []error{errDown, errDown}, start: time.Now()}
		type out struct {
			s   stages.Stream
			err error
			at  time.Duration
		}
		res := make(chan out, 1)
		go func() {
			s, err := retry.Connect(ctx, d.dial, retry.Options{Backoff: retry.BackoffConfig{BaseMs: 10_000, Attempts: 3}, Rand: stagestest.Half})
			res <- out{s, err, time.Since(d.start)}
		}()
		time.Sleep(time.Second) // inside the 5 s wait
		cancel()
		r := <-res
		td.CmpNil(t, r.s)
		td.CmpTrue(t, errors.Is(r.err, stages.ErrAborted))
		td.Cmp(t, r.at, time.Second, "returned the instant the client left")
		td.Cmp(t, len(d.at), 1)
	})
}

func TestConnectAbortDuringInFlightDial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := stagestest.NewProvider()
		ctx, cancel := context.WithCancel(t.Context())
		res := make(chan error, 1)
		go func() {
			s, err := retry.Connect(ctx, func(ctx context.Context) (stages.Stream, error) {
				return p.Dial(ctx, stages.StreamConfig{})
			}, retry.Options{Backoff: retry.BackoffConfig{}, Rand: stagestest.Half})
			td.CmpNil(t, s)
			res <- err
		}()
		d := <-p.Dials // the dial is in flight and never answered
		start := time.Now()
		cancel()
		err := <-res
		td.CmpTrue(t, errors.Is(err, stages.ErrAborted))
		td.Cmp(t, time.Since(start), time.Duration(0))
		td.CmpNotNil(t, d.Ctx.Err(), "the dial's context was cancelled")
	})
}

func TestConnectNoCancellationNeverAborts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &scripted{errs: []error{errDown, errDown, errDown, errDown}, start: time.Now(), s: stagestest.NewStream(1)}
		s, err := retry.Connect(t.Context(), d.dial, retry.Options{Backoff: retry.BackoffConfig{BaseMs: 100, CapMs: 1000, Attempts: 5}, Rand: stagestest.Half})
		td.CmpNoError(t, err)
		td.CmpNotNil(t, s)
		td.Cmp(t, len(d.at), 5)
	})
}

func TestConnectZeroAttemptsErrorsWithoutDialing(t *testing.T) {
	d := &scripted{start: time.Now()}
	s, err := retry.Connect(context.Background(), d.dial, retry.Options{Backoff: retry.BackoffConfig{Attempts: -1}, Rand: stagestest.Half})
	td.CmpNil(t, s)
	td.CmpError(t, err)
	td.Cmp(t, stages.Classify(err), stages.ClassPermanent)
	td.CmpEmpty(t, d.at)
}

func TestConnectOneAttemptNoWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &scripted{errs: []error{errDown}, start: time.Now()}
		_, err := retry.Connect(t.Context(), d.dial, retry.Options{Backoff: retry.BackoffConfig{Attempts: 1}, Rand: stagestest.Half})
		td.Cmp(t, err, errDown)
		td.Cmp(t, time.Since(d.start), time.Duration(0), "no wait after the only attempt")
	})
}

func TestConnectPermanentNotRetried(t *testing.T) {
	for _, status := range []int{400, 401, 402, 403} {
		d := &scripted{errs: []error{&stages.UpstreamError{HTTPStatus: status}}, start: time.Now()}
		_, err := retry.Connect(context.Background(), d.dial, retry.Options{Backoff: retry.BackoffConfig{Attempts: 3}, Rand: stagestest.Half})
		td.Cmp(t, stages.Classify(err), stages.ClassPermanent, "status %d", status)
		td.Cmp(t, len(d.at), 1, "status %d dialled once", status)
	}
	d := &scripted{errs: []error{errNoAuth}, start: time.Now()}
	_, err := retry.Connect(context.Background(), d.dial, retry.Options{Backoff: retry.BackoffConfig{}, Rand: stagestest.Half})
	td.Cmp(t, err, errNoAuth)
}

func TestConnectHonoursRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := &stages.UpstreamError{HTTPStatus: 429, RetryAfter: 7 * time.Second}
		d := &scripted{errs: []error{slow}, start: time.Now(), s: stagestest.NewStream(1)}
		_, err := retry.Connect(t.Context(), d.dial, retry.Options{Backoff: retry.BackoffConfig{BaseMs: 1000}, Rand: stagestest.Half})
		td.CmpNoError(t, err)
		td.Cmp(t, d.at, []time.Duration{0, 7 * time.Second})
	})
}

func TestConnectCapacityRefusalsDoNotOpenTheBreaker(t *testing.T) {
	b := retry.NewBreaker("local", retry.BreakerConfig{FailureThreshold: 2}, nil)
	busy := &stages.UpstreamError{HTTPStatus: 429, Code: "CAPACITY", Err: stages.ErrCapacity}
	for range 10 {
		d := &scripted{errs: []error{busy}, start: time.Now()}
		_, err := retry.Connect(context.Background(), d.dial, retry.Options{
			Backoff: retry.BackoffConfig{Attempts: 1}, Rand: stagestest.Half, Breaker: b})
		td.CmpTrue(t, errors.Is(err, stages.ErrCapacity))
	}
	td.Cmp(t, b.State(), retry.BreakerClosed, "a busy upstream is not a failing one")
	for range 2 {
		d := &scripted{errs: []error{errDown}, start: time.Now()}
		_, _ = retry.Connect(context.Background(), d.dial, retry.Options{
			Backoff: retry.BackoffConfig{Attempts: 1}, Rand: stagestest.Half, Breaker: b})
	}
	td.Cmp(t, b.State(), retry.BreakerOpen, "failures still count")
}

func TestBackoffDelayIsCappedFullJitter(t *testing.T) {
	c := retry.BackoffConfig{BaseMs: 1000, CapMs: 32000}
	td.Cmp(t, c.Delay(0, 0.999), td.Between(990*time.Millisecond, time.Second, td.BoundsInOut))
	td.Cmp(t, c.Delay(3, 0.5), 4*time.Second)
	td.Cmp(t, c.Delay(10, 0.5), 16*time.Second, "capped at 32 s before jitter")
	td.Cmp(t, c.Delay(100, 1), 32*time.Second, "no overflow for large retries")
	td.Cmp(t, c.Delay(2, 0), time.Duration(0))
}

func TestClassify(t *testing.T) {
	td.Cmp(t, stages.Classify(&stages.UpstreamError{CloseCode: 1008}), stages.ClassPermanent)
	for _, code := range []int{1006, 1011} {
		td.Cmp(t, stages.Classify(&stages.UpstreamError{CloseCode: code}), stages.ClassRetryable)
	}
	for _, status := range []int{429, 500, 502, 503} {
		td.Cmp(t, stages.Classify(&stages.UpstreamError{HTTPStatus: status}), stages.ClassRetryable)
	}
	td.Cmp(t, stages.Classify(context.Canceled), stages.ClassAborted)
	td.Cmp(t, stages.Classify(errors.New("dial tcp: connection refused")), stages.ClassRetryable)
}

// TestParseRetryAfter: seconds, an HTTP-date, junk, the past and the cap.
func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		" 7 ":                           7 * time.Second,
		"-3":                            0,
		"soon":                          0,
		"99999999":                      retry.MaxRetryAfter,
		"Fri, 04 Dec 2026 10:00:30 GMT": 30 * time.Second,
		"Fri, 04 Dec 2026 09:00:00 GMT": 0,
	} {
		td.Cmp(t, retry.ParseRetryAfter(v, now), want, "%q", v)
	}
}

// TestConnectBreakerOpenEnds: with BreakerOpenEnds, a refusal by the open
// breaker ends Connect at once, without a dial or a wait.
func TestConnectBreakerOpenEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker("x", retry.BreakerConfig{FailureThreshold: 1, OpenMs: 60000, FirstOpenMs: 60000}, nil)
		ok, _ := b.Allow()
		td.CmpTrue(t, ok)
		b.Failure()
		d := &scripted{start: time.Now(), s: stagestest.NewStream(1)}
		began := time.Now()
		_, err := retry.Connect(t.Context(), d.dial, retry.Options{Backoff: retry.BackoffConfig{Attempts: 5}, Breaker: b, BreakerOpenEnds: true})
		td.CmpTrue(t, errors.Is(err, retry.ErrBreakerOpen))
		td.Cmp(t, time.Since(began), time.Duration(0))
		td.CmpNil(t, d.at, "no dial")
	})
}
