package connector

import (
	"errors"
	"strconv"

	"github.com/VictoriaMetrics/metrics"

	"earshot/stages"
	"earshot/stages/retry"
)

// Metrics are the connector stage's server-wide metrics. Build one
// per server with NewMetrics and share it among sessions; every
// field is safe for concurrent use.
type Metrics struct {
	set *metrics.Set
	// Attempts counts dials.
	Attempts *metrics.Counter
	// DialSeconds is the latency of each dial, successful or not.
	DialSeconds *metrics.PrometheusHistogram
	// KeepAlives counts KeepAlive messages sent.
	KeepAlives *metrics.Counter
	// IdleFinalizes counts Finalize messages sent because the client's
	// audio paused with words not yet final (Config.FinalizeIdleMs).
	IdleFinalizes *metrics.Counter
	// GateFinalizes counts Finalize messages sent because the VAD gate's
	// silence after speech reached FinalizeSilenceMs (or the gate started
	// holding audio back) with words not yet final.
	GateFinalizes *metrics.Counter
	// StallProbes counts Finalize messages sent to a stream that answered
	// nothing for half the stall timeout.
	StallProbes *metrics.Counter
	// Reconnects counts streams opened after a stream of the same session
	// failed.
	Reconnects *metrics.Counter
	// SentSeconds counts audio seconds sent upstream.
	SentSeconds *metrics.FloatCounter
	// ReplayedSeconds counts audio seconds sent again on a new stream
	// because no final result had covered them when the old one failed.
	ReplayedSeconds *metrics.FloatCounter
	// DuplicateWords counts words from replayed audio that an earlier
	// stream had already produced, dropped before they reach segments.
	DuplicateWords *metrics.Counter
	// PrefixWords counts words dropped because they start inside a
	// stream's prefix (a speech profile).
	PrefixWords *metrics.Counter
	// Stalls counts streams replaced because they answered nothing.
	Stalls *metrics.Counter
	// LostSeconds counts audio seconds that never reached a final result
	// and cannot be replayed: evicted from the full replay ring, dropped
	// when the upstream failed for good, or still held when a session
	// ended on an upstream that did not finish its stream after
	// CloseStream. Audio an upstream that finished normally never covered
	// with a final (a recognizer's last partial frame) is not lost: it
	// answered for all it heard. It counts samples, not capture time:
	// silence the VAD gate never sent is not lost.
	LostSeconds *metrics.FloatCounter
	// Degraded is the number of sessions whose upstream is down now.
	Degraded *metrics.Gauge
	// FailoverSeconds is the time from a stream's failure to the first
	// result of the provider the session failed over to.
	FailoverSeconds *metrics.Histogram
}

// NewMetrics registers the connector metrics in set. It panics if
// they are already registered there (one set per server).
func NewMetrics(set *metrics.Set) *Metrics {
	return &Metrics{
		set:             set,
		Attempts:        set.NewCounter(`earshot_upstream_connect_attempts_total`),
		DialSeconds:     set.NewPrometheusHistogram(`earshot_upstream_connect_seconds`),
		KeepAlives:      set.NewCounter(`earshot_upstream_keepalives_total`),
		IdleFinalizes:   set.NewCounter(`earshot_upstream_idle_finalizes_total`),
		GateFinalizes:   set.NewCounter(`earshot_upstream_gate_finalizes_total`),
		StallProbes:     set.NewCounter(`earshot_upstream_stall_probes_total`),
		Reconnects:      set.NewCounter(`earshot_upstream_reconnects_total`),
		SentSeconds:     set.NewFloatCounter(`earshot_audio_upstream_seconds_total`),
		LostSeconds:     set.NewFloatCounter(`earshot_audio_lost_seconds_total`),
		ReplayedSeconds: set.NewFloatCounter(`earshot_audio_replayed_seconds_total`),
		DuplicateWords:  set.NewCounter(`earshot_upstream_duplicate_words_total`),
		PrefixWords:     set.NewCounter(`earshot_upstream_prefix_words_total`),
		Stalls:          set.NewCounter(`earshot_upstream_stalls_total`),
		Degraded:        set.NewGauge(`earshot_sessions_degraded`, nil),
		FailoverSeconds: set.NewHistogram(`earshot_upstream_failover_seconds`),
	}
}

// connects counts the outcomes of connects by outcome ("ok", "aborted",
// "permanent", "exhausted"). The label set is bounded.
func (m *Metrics) connects(outcome string) *metrics.Counter {
	return m.set.GetOrCreateCounter(`earshot_upstream_connects_total{outcome="` + outcome + `"}`)
}

// failovers counts sessions moving from one provider of their chain to
// another (provider names: a bounded label set).
func (m *Metrics) failovers(from, to string) *metrics.Counter {
	return m.set.GetOrCreateCounter(`earshot_upstream_failovers_total{from="` + from + `",to="` + to + `"}`)
}

// failbacks counts sessions moving back to an earlier provider of their
// chain.
func (m *Metrics) failbacks(from, to string) *metrics.Counter {
	return m.set.GetOrCreateCounter(`earshot_upstream_failbacks_total{from="` + from + `",to="` + to + `"}`)
}

// idleCloses counts streams closed while the gate held the audio back
// (Link.IdleCloseMs).
func (m *Metrics) idleCloses(provider string) *metrics.Counter {
	return m.set.GetOrCreateCounter(`earshot_upstream_idle_closes_total{provider="` + provider + `"}`)
}

// providerSent counts audio seconds sent to one provider.
func (m *Metrics) providerSent(provider string) *metrics.FloatCounter {
	return m.set.GetOrCreateFloatCounter(`earshot_upstream_sent_seconds_total{provider="` + provider + `"}`)
}

// providerCost is the estimated cost, in US dollars, of one provider.
func (m *Metrics) providerCost(provider string) *metrics.FloatCounter {
	return m.set.GetOrCreateFloatCounter(`earshot_upstream_cost_usd_total{provider="` + provider + `"}`)
}

// providerStream counts the seconds streams of one provider were open.
func (m *Metrics) providerStream(provider string) *metrics.FloatCounter {
	return m.set.GetOrCreateFloatCounter(`earshot_upstream_stream_seconds_total{provider="` + provider + `"}`)
}

// dialFailures counts failed dials by reason (see failureReason).
func (m *Metrics) dialFailures(reason string) *metrics.Counter {
	return m.set.GetOrCreateCounter(`earshot_upstream_dial_failures_total{reason="` + reason + `"}`)
}

// failureReason is a bounded label for an upstream failure: "http_<status>",
// "close_<code>", "stall", "circuit_open" or "network".
func failureReason(err error) string {
	var ue *stages.UpstreamError
	switch {
	case errors.Is(err, retry.ErrBreakerOpen):
		return "circuit_open"
	case errors.Is(err, ErrStalled):
		return "stall"
	case !errors.As(err, &ue):
		return "network"
	case ue.HTTPStatus >= 100 && ue.HTTPStatus <= 599:
		return "http_" + strconv.Itoa(ue.HTTPStatus)
	case ue.CloseCode >= 1000 && ue.CloseCode <= 4999:
		return "close_" + strconv.Itoa(ue.CloseCode)
	default:
		return "network"
	}
}

// streamFailures counts streams that failed after they opened, by reason.
func (m *Metrics) streamFailures(reason string) *metrics.Counter {
	return m.set.GetOrCreateCounter(`earshot_upstream_stream_failures_total{reason="` + reason + `"}`)
}

// streamEnds counts how upstream streams ended ("closed", "retryable",
// "permanent", "aborted").
func (m *Metrics) streamEnds(how string) *metrics.Counter {
	return m.set.GetOrCreateCounter(`earshot_upstream_stream_ends_total{how="` + how + `"}`)
}

// Set is the metrics set the Metrics are registered in.
func (m *Metrics) Set() *metrics.Set { return m.set }
