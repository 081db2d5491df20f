package pusher

import (
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"

	"earshot/stages/retry"
)

// State is where a session's pusher connection is.
type State int

// States of a session's connection (Omi's names).
const (
	// StateConnecting: the first dial.
	StateConnecting State = iota
	// StateConnected: frames flow.
	StateConnected
	// StateReconnectBackoff: the connection failed; reconnecting with
	// backoff, a few attempts.
	StateReconnectBackoff
	// StateDegraded: the attempts ran out; cooling down.
	StateDegraded
	// StateHalfOpenProbe: one dial after the cool-down.
	StateHalfOpenProbe
	numStates
)

// String is the state's metric label.
func (s State) String() string {
	return [...]string{"connecting", "connected", "reconnect_backoff", "degraded", "half_open_probe"}[s]
}

// pusherMetrics are the pusher's process-wide metrics.
type pusherMetrics struct {
	set             *metrics.Set
	states          [numStates]atomic.Int64
	lingering       atomic.Int64
	pending         atomic.Int64
	sentBytes       *metrics.Counter
	resentBytes     *metrics.Counter
	sentSegments    *metrics.Counter
	droppedAudio    *metrics.FloatCounter
	droppedSegments *metrics.Counter
	processSeconds  *metrics.Histogram
	connects        func(result string) *metrics.Counter
}

func newMetrics(set *metrics.Set, breaker *retry.Breaker) *pusherMetrics {
	m := &pusherMetrics{
		set:             set,
		sentBytes:       set.NewCounter(`earshot_pusher_sent_bytes_total`),
		resentBytes:     set.NewCounter(`earshot_pusher_resent_bytes_total`),
		sentSegments:    set.NewCounter(`earshot_pusher_segments_sent_total`),
		droppedAudio:    set.NewFloatCounter(`earshot_pusher_dropped_audio_seconds_total`),
		droppedSegments: set.NewCounter(`earshot_pusher_dropped_segments_total`),
		processSeconds:  set.NewHistogram(`earshot_pusher_process_seconds`),
	}
	set.NewGauge(`earshot_pusher_pending_requests`, func() float64 { return float64(m.pending.Load()) })
	for st := range numStates {
		set.NewGauge(`earshot_pusher_sessions{state="`+st.String()+`"}`, func() float64 { return float64(m.states[st].Load()) })
	}
	set.NewGauge(`earshot_pusher_lingering_sessions`, func() float64 { return float64(m.lingering.Load()) })
	set.NewGauge(`earshot_pusher_breaker_state`, func() float64 { return float64(breaker.State()) })
	m.connects = func(result string) *metrics.Counter {
		return set.GetOrCreateCounter(`earshot_pusher_connects_total{result="` + result + `"}`)
	}
	// Every series from the start, at 0.
	for _, r := range []string{"ok", "failed", "lost"} {
		m.connects(r)
	}
	for _, r := range []string{"success", "error", "given_up"} {
		m.requests(r)
	}
	return m
}

// requests counts processing requests by outcome: success, error (the
// pusher answered with an error) or given_up.
func (m *pusherMetrics) requests(result string) *metrics.Counter {
	return m.set.GetOrCreateCounter(`earshot_pusher_requests_total{result="` + result + `"}`)
}
