package connector

import (
	"sync/atomic"
	"time"

	"earshot/stages"
)

// Stats are one connector's counts, for a session's cost
// accounting. Sample counts are at the stream's rate.
type Stats struct {
	// Sent counts samples sent upstream (what a provider bills),
	// replays included; Replayed those sent again on a new stream.
	Sent, Replayed int64
	// Lost counts samples that never reached a final result and cannot
	// be replayed (Metrics.LostSeconds). Silence the gate held
	// back is not lost: it was never sent.
	Lost int64
	// KeepAlives counts KeepAlive messages sent; Finalizes the Finalize
	// messages, whatever their cause (the gate's silence, a pause, a
	// stall probe).
	KeepAlives, Finalizes int64
}

// connStats are the atomic counters behind Stats.
type connStats struct {
	sent, replayed, lost, keepAlives, finalizes atomic.Int64
}

// Stats returns the connector's counts so far. Safe for concurrent use.
func (c *Connector) Stats() Stats {
	return Stats{
		Sent: c.stats.sent.Load(), Replayed: c.stats.replayed.Load(),
		Lost: c.stats.lost.Load(), KeepAlives: c.stats.keepAlives.Load(),
		Finalizes: c.stats.finalizes.Load(),
	}
}

// sentAudio counts samples sent upstream.
func (c *Connector) sentAudio(link *Link, samples int64) {
	c.stats.sent.Add(samples)
	sec := stages.SamplesToSeconds(samples, c.sc.SampleRateHz)
	c.deps.Metrics.SentSeconds.Add(sec)
	name := link.Provider.Name()
	c.deps.Metrics.providerSent(name).Add(sec)
	if p := link.Price; !p.BillsStreamTime && p.USDPerHour > 0 {
		c.deps.Metrics.providerCost(name).Add(sec * p.USDPerHour / 3600)
	}
}

// streamTime counts the time a stream of link was open, and its cost
// when the provider bills stream time.
func (c *Connector) streamTime(link *Link, open time.Duration) {
	name := link.Provider.Name()
	c.deps.Metrics.providerStream(name).Add(open.Seconds())
	if p := link.Price; p.BillsStreamTime && p.USDPerHour > 0 {
		c.deps.Metrics.providerCost(name).Add(open.Hours() * p.USDPerHour)
	}
}

// replayed counts samples about to be sent again on a new stream.
func (c *Connector) replayed(samples int64) {
	c.stats.replayed.Add(samples)
	c.deps.Metrics.ReplayedSeconds.Add(stages.SamplesToSeconds(samples, c.sc.SampleRateHz))
}

// lose counts samples of lost audio.
func (c *Connector) lose(samples int64) {
	if samples > 0 {
		c.stats.lost.Add(samples)
		c.deps.Metrics.LostSeconds.Add(stages.SamplesToSeconds(samples, c.sc.SampleRateHz))
	}
}

// keptAlive counts a KeepAlive sent.
func (c *Connector) keptAlive() {
	c.stats.keepAlives.Add(1)
	c.deps.Metrics.KeepAlives.Inc()
}

// finalizeCause is why the connector sent a Finalize.
type finalizeCause int

const (
	// finalizeSilence: the VAD gate's silence after speech reached
	// FinalizeSilenceMs, or the gate started holding audio back.
	finalizeSilence finalizeCause = iota
	// finalizePause: the client's audio paused for FinalizeIdleMs.
	finalizePause
	// finalizeStallProbe: the stream answered nothing for half the
	// stall timeout.
	finalizeStallProbe
)

// finalized counts a Finalize sent, by cause.
func (c *Connector) finalized(cause finalizeCause) {
	c.stats.finalizes.Add(1)
	switch cause {
	case finalizeSilence:
		c.deps.Metrics.GateFinalizes.Inc()
	case finalizePause:
		c.deps.Metrics.IdleFinalizes.Inc()
	case finalizeStallProbe:
		c.deps.Metrics.StallProbes.Inc()
	}
}
