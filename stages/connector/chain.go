package connector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"earshot/stages"
	"earshot/stages/retry"
)

// Link is one provider of a connector's chain, in order of preference:
// the provider, its process-wide breaker (nil: none), and the session
// languages it serves (nil: any); a session whose language a link does
// not serve passes it by.
// Price is its price, for the estimated cost. PaceReplay, if > 0, is the
// most audio a stream of it takes per wall second, as a multiple of real
// time, beyond a burst of PaceBurstMs (Soniox disconnects prolonged
// bursts): a replay is sent at that pace, live audio after it.
type Link struct {
	Provider    stages.Provider
	Breaker     *retry.Breaker
	Languages   []string
	Price       Price
	PaceReplay  float64
	PaceBurstMs int
	// IdleCloseMs, if > 0: a stream of this provider is closed once the
	// VAD gate has held the audio back this long with every word sent
	// covered by finals, and a new one opens at the next speech, with the
	// ring's pre-roll; a session starts dialing it only at its first
	// speech. For providers that bill the time a stream is open.
	IdleCloseMs int
}

// Price is what a provider charges, for the estimated cost
// (earshot_upstream_cost_usd_total{provider}): USDPerHour of audio sent,
// or, when BillsStreamTime, of the time a stream is open, silence and
// keepalives included (Soniox's billing). The zero Price costs nothing.
type Price struct {
	USDPerHour      float64
	BillsStreamTime bool
}

// Defaults of the chain's Config fields.
const (
	// DefaultFailoverAfterMs: reconnects to one provider failing for 10 s
	// move the session to the next provider of its chain.
	DefaultFailoverAfterMs = 10000
	// DefaultMaxFailovers bounds a session's moves between providers
	// (Omi's MAX_STT_FAILOVERS is 2; fail-backs count too).
	DefaultMaxFailovers = 4
	// quickDeathsToFailover: streams that a provider accepted and then
	// lost within MinStreamMs, this many in a row, move the session on
	// ("accepted, then died": Omi #12469).
	quickDeathsToFailover = 3
)

// errFailoverDue is the cause that ends a reconnect to one provider when
// FailoverAfterMs has passed since the outage began.
var errFailoverDue = errors.New("reconnects failed for too long; trying the next provider")

// links is the connector's chain: Deps.Chain, or the one Deps.Provider.
func (c *Connector) links() []Link {
	if len(c.deps.Chain) > 0 {
		return c.deps.Chain
	}
	return []Link{{Provider: c.deps.Provider, Breaker: c.deps.Breaker}}
}

// name is the current provider's Name.
func (c *Connector) name(st *connState) string { return c.links()[st.link].Provider.Name() }

// serves reports whether provider link serves the session's language.
func (c *Connector) serves(link int) bool {
	langs := c.links()[link].Languages
	return langs == nil || slices.Contains(langs, c.sc.Language)
}

// canFailover reports whether the session may move to a later provider.
func (c *Connector) canFailover(st *connState) bool {
	return st.link+1 < len(c.links()) && st.failovers < c.cfg.MaxFailovers
}

// moveOn makes the next provider of the chain the current one.
func (c *Connector) moveOn(st *connState, why error) {
	from := c.name(st)
	st.link++
	st.failovers++
	st.fellFrom = from
	to := c.name(st)
	c.deps.Metrics.failovers(from, to).Inc()
	c.log.Warn("upstream failing over", "from", from, "to", to, "failovers", st.failovers, "err", why)
}

// connect dials the current provider (see connectLink) and, while the
// chain has another provider and the session has failovers left, moves
// on when it fails: a permanent refusal, its breaker open, the attempts
// run out, or, on a reconnect, FailoverAfterMs passed since the outage
// began. st.skip (set by Run) moves on before dialing at all. It returns
// the error of the last provider tried when none could be reached, and
// an error wrapping ErrAborted when the client left or ctx ended.
func (c *Connector) connect(ctx context.Context, st *connState, delay time.Duration, reconnect bool) (stages.Stream, error) {
	var last error
	for {
		if !c.serves(st.link) && c.canFailover(st) {
			st.skip = true
			if last == nil {
				last = fmt.Errorf("%s: language %q not served", c.name(st), c.sc.Language)
			}
		}
		if st.skip {
			st.skip = false
			if !c.canFailover(st) {
				return nil, last
			}
			c.moveOn(st, last)
			// A provider new to the session: its first connect.
			delay, reconnect = 0, false
			continue
		}
		var budget time.Duration
		if reconnect && c.canFailover(st) && c.cfg.FailoverAfterMs > 0 && !st.failingSince.IsZero() {
			budget = max(time.Duration(c.cfg.FailoverAfterMs)*time.Millisecond-time.Since(st.failingSince), time.Millisecond)
		}
		s, err := c.connectLink(ctx, st, delay, reconnect, budget, c.canFailover(st))
		if err == nil {
			return s, nil
		}
		if stages.Classify(err) == stages.ClassAborted || !c.canFailover(st) {
			return nil, err
		}
		if stages.Classify(err) == stages.ClassPermanent {
			st.ban()
		}
		last, st.skip = err, true
	}
}

// failoverDue turns the end of a reconnect's FailoverAfterMs budget (a
// connect aborted by it) into the retryable error that moves the session
// on; other errors pass.
func failoverDue(dctx context.Context, err error) error {
	if errors.Is(context.Cause(dctx), errFailoverDue) {
		return &stages.UpstreamError{Code: "FAILOVER", Reason: "reconnects failed for too long", Err: errFailoverDue}
	}
	return err
}

// messageMaxSamples is MessageMaxMs in samples of the stream's rate, 0
// when messages are never coalesced.
func (c *Connector) messageMaxSamples() int64 {
	if c.cfg.MessageMaxMs <= 0 {
		return 0
	}
	return int64(c.cfg.MessageMaxMs) * int64(c.sc.SampleRateHz) / 1000
}
