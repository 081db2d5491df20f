package stages

import (
	"errors"
	"strconv"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
)

// ConnectorMetrics are the connector stage's server-wide metrics. Build one
// per server with NewConnectorMetrics and share it among sessions; every
// field is safe for concurrent use.
type ConnectorMetrics struct {
	set *metrics.Set
	// Attempts counts dials.
	Attempts *metrics.Counter
	// DialSeconds is the latency of each dial, successful or not.
	DialSeconds *metrics.PrometheusHistogram
	// KeepAlives counts KeepAlive messages sent.
	KeepAlives *metrics.Counter
	// IdleFinalizes counts Finalize messages sent because the client's
	// audio paused with words not yet final (ConnectorConfig.FinalizeIdleMs).
	IdleFinalizes *metrics.Counter
	// GateFinalizes counts Finalize messages sent because the VAD gate
	// saw the speech end (MarkFinalize) with words not yet final.
	GateFinalizes *metrics.Counter
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
	// Stalls counts streams replaced because they answered nothing.
	Stalls *metrics.Counter
	// LostSeconds counts audio seconds that never reached a final result
	// and cannot be replayed: evicted from the full replay ring, still
	// held when the session ended, or left when the upstream failed for
	// good (never silent). It counts samples, not capture time: silence
	// the VAD gate never sent is not lost.
	LostSeconds *metrics.FloatCounter
	// Degraded is the number of sessions whose upstream is down now.
	Degraded *metrics.Gauge

	broken atomic.Pointer[string] // reason of the last permanent connect failure
}

// Broken returns the reason of the latest connect that failed permanently
// (bad key, no credit, ...), unless a connect succeeded since. A server
// whose every session would fail that way is not ready.
func (m *ConnectorMetrics) Broken() (reason string, broken bool) {
	if r := m.broken.Load(); r != nil {
		return *r, true
	}
	return "", false
}

// connected records a successful connect; permanent records a permanent
// connect failure.
func (m *ConnectorMetrics) connected()              { m.broken.Store(nil) }
func (m *ConnectorMetrics) permanent(reason string) { m.broken.Store(&reason) }

// NewConnectorMetrics registers the connector metrics in set. It panics if
// they are already registered there (one set per server).
func NewConnectorMetrics(set *metrics.Set) *ConnectorMetrics {
	return &ConnectorMetrics{
		set:             set,
		Attempts:        set.NewCounter(`earshot_upstream_connect_attempts_total`),
		DialSeconds:     set.NewPrometheusHistogram(`earshot_upstream_connect_seconds`),
		KeepAlives:      set.NewCounter(`earshot_upstream_keepalives_total`),
		IdleFinalizes:   set.NewCounter(`earshot_upstream_idle_finalizes_total`),
		GateFinalizes:   set.NewCounter(`earshot_upstream_gate_finalizes_total`),
		Reconnects:      set.NewCounter(`earshot_upstream_reconnects_total`),
		SentSeconds:     set.NewFloatCounter(`earshot_audio_upstream_seconds_total`),
		LostSeconds:     set.NewFloatCounter(`earshot_audio_lost_seconds_total`),
		ReplayedSeconds: set.NewFloatCounter(`earshot_audio_replayed_seconds_total`),
		DuplicateWords:  set.NewCounter(`earshot_upstream_duplicate_words_total`),
		Stalls:          set.NewCounter(`earshot_upstream_stalls_total`),
		Degraded:        set.NewGauge(`earshot_sessions_degraded`, nil),
	}
}

// connects counts the outcomes of connects by outcome ("ok", "aborted",
// "permanent", "exhausted"). The label set is bounded.
func (m *ConnectorMetrics) connects(outcome string) *metrics.Counter {
	return m.set.GetOrCreateCounter(`earshot_upstream_connects_total{outcome="` + outcome + `"}`)
}

// dialFailures counts failed dials by reason (see failureReason).
func (m *ConnectorMetrics) dialFailures(reason string) *metrics.Counter {
	return m.set.GetOrCreateCounter(`earshot_upstream_dial_failures_total{reason="` + reason + `"}`)
}

// failureReason is a bounded label for an upstream failure: "http_<status>",
// "close_<code>", "stall", "circuit_open" or "network".
func failureReason(err error) string {
	var ue *UpstreamError
	switch {
	case errors.Is(err, ErrBreakerOpen):
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
func (m *ConnectorMetrics) streamFailures(reason string) *metrics.Counter {
	return m.set.GetOrCreateCounter(`earshot_upstream_stream_failures_total{reason="` + reason + `"}`)
}

// streamEnds counts how upstream streams ended ("closed", "retryable",
// "permanent", "aborted").
func (m *ConnectorMetrics) streamEnds(how string) *metrics.Counter {
	return m.set.GetOrCreateCounter(`earshot_upstream_stream_ends_total{how="` + how + `"}`)
}

// FanoutMetrics are the fan-out stage's server-wide metrics.
type FanoutMetrics struct {
	set *metrics.Set
	// Segments counts segment updates produced (new or grown).
	Segments *metrics.Counter
}

// NewFanoutMetrics registers the fan-out metrics in set.
func NewFanoutMetrics(set *metrics.Set) *FanoutMetrics {
	return &FanoutMetrics{set: set, Segments: set.NewCounter(`earshot_segment_updates_total`)}
}

// dropped counts messages a sink's overflow policy discarded.
func (m *FanoutMetrics) dropped(sink string) *metrics.Counter {
	return m.set.GetOrCreateCounter(`earshot_sink_dropped_total{sink="` + sink + `"}`)
}

// GateMetrics are the VAD gate's server-wide metrics. Build one per server
// with NewGateMetrics and share it among sessions.
type GateMetrics struct {
	set *metrics.Set
	// SpeechSeconds counts capture seconds in frames the detector called
	// speech (active and shadow gates).
	SpeechSeconds *metrics.FloatCounter
	// HeldSeconds counts capture seconds active gates held back: never
	// sent upstream (not billed).
	HeldSeconds *metrics.FloatCounter
	// ShadowHeldSeconds counts capture seconds shadow gates would have
	// held back (they sent them).
	ShadowHeldSeconds *metrics.FloatCounter
	// Onsets counts silence-to-speech decisions (active and shadow).
	Onsets *metrics.Counter
	// FailOpens counts sessions whose detector failed: their gate was
	// turned off and sent everything since.
	FailOpens *metrics.Counter
}

// NewGateMetrics registers the gate metrics in set. It panics if they are
// already registered there (one set per server).
func NewGateMetrics(set *metrics.Set) *GateMetrics {
	m := &GateMetrics{
		set:               set,
		SpeechSeconds:     set.NewFloatCounter(`earshot_gate_speech_seconds_total`),
		HeldSeconds:       set.NewFloatCounter(`earshot_gate_held_seconds_total{mode="active"}`),
		ShadowHeldSeconds: set.NewFloatCounter(`earshot_gate_held_seconds_total{mode="shadow"}`),
		Onsets:            set.NewCounter(`earshot_gate_onsets_total`),
		FailOpens:         set.NewCounter(`earshot_gate_fail_open_total`),
	}
	for _, mode := range []GateMode{GateOff, GateShadow, GateActive} {
		m.sessions(mode)
	}
	return m
}

// sessions counts sessions by the mode their gate started in.
func (m *GateMetrics) sessions(mode GateMode) *metrics.Counter {
	return m.set.GetOrCreateCounter(`earshot_gate_sessions_total{mode="` + string(mode) + `"}`)
}
