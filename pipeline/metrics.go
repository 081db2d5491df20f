package pipeline

import (
	"strconv"

	"github.com/VictoriaMetrics/metrics"

	"earshot/internal/chunks"
	"earshot/stages/connector"
	"earshot/stages/fanout"
	"earshot/stages/gate"
	"earshot/stages/ingest"
	"earshot/stages/retry"
)

// serverMetrics are one server's metrics, all registered in its own set.
type serverMetrics struct {
	set          *metrics.Set
	active       *metrics.Gauge
	sessions     *metrics.Counter
	rejected     *metrics.Counter
	clientFrames *metrics.Counter
	clientBytes  *metrics.Counter
	// writeTimeouts counts sessions closed because the client stopped
	// reading (Config.WriteTimeoutMs).
	writeTimeouts *metrics.Counter
	// tooFast counts sessions closed for sending audio faster than
	// Config.MaxPace.
	tooFast *metrics.Counter
	// throttled counts handshakes refused with 429 because their address
	// had too many refused handshakes (Config.FailedHandshakeBurst).
	throttled *metrics.Counter
	// refusedBusy counts sessions refused beyond MaxSessions or
	// MaxSessionsPerKey.
	refusedBusy *metrics.Counter
	// messages counts client text messages by kind (controlKinds);
	// assignDropped the speaker assignments the fan-out had no room for.
	messages      map[string]*metrics.Counter
	assignDropped *metrics.Counter
	captureSec    *metrics.FloatCounter
	sessionSec    *metrics.PrometheusHistogram
	connector     *connector.Metrics
	fanout        *fanout.Metrics
	gate          *gate.Metrics
	ingest        *ingest.Metrics
}

// upstream holds the process-wide protections of the upstream target.
type upstream struct {
	budget *retry.Budget
	// chain is the sessions' chain of providers: the provider, then the
	// fallbacks.
	chain []connector.Link
}

// newServerMetrics registers the server's metrics in set, with gauges of
// the replay rings' pool: bytes holding audio, resident bytes (held audio
// plus the free chunks kept for reuse), the budget and each ring's share
// of it, and the budget's refusals and evictions.
func newServerMetrics(set *metrics.Set, pool *chunks.Pool) *serverMetrics {
	set.NewGauge(`earshot_replay_ring_bytes`, func() float64 {
		st := pool.Stats()
		return float64(st.InUse) * float64(st.ChunkBytes)
	})
	set.NewGauge(`earshot_replay_pool_resident_bytes`, func() float64 {
		st := pool.Stats()
		return float64(st.InUse+st.Free) * float64(st.ChunkBytes)
	})
	set.NewGauge(`earshot_replay_budget_bytes`, func() float64 { return float64(pool.BudgetBytes()) })
	set.NewGauge(`earshot_replay_share_bytes`, func() float64 {
		return float64(pool.Share()) * float64(pool.ChunkBytes())
	})
	// Monotonic counts kept by the pool, exposed as counters.
	set.NewGauge(`earshot_replay_budget_refusals_total`, func() float64 { return float64(pool.Stats().Refused) })
	set.NewGauge(`earshot_replay_budget_evicted_bytes_total`, func() float64 {
		return float64(pool.Stats().EvictedBytes)
	})
	messages := make(map[string]*metrics.Counter, len(controlKinds))
	for _, k := range controlKinds {
		messages[k] = set.NewCounter(`earshot_client_messages_total{type="` + k + `"}`)
	}
	return &serverMetrics{
		set:           set,
		messages:      messages,
		assignDropped: set.NewCounter(`earshot_speaker_assignments_dropped_total`),
		active:        set.NewGauge(`earshot_sessions_active`, nil),
		sessions:      set.NewCounter(`earshot_sessions_total`),
		rejected:      set.NewCounter(`earshot_sessions_rejected_total`),
		clientFrames:  set.NewCounter(`earshot_client_frames_total`),
		clientBytes:   set.NewCounter(`earshot_client_bytes_total`),
		writeTimeouts: set.NewCounter(`earshot_client_write_timeouts_total`),
		tooFast:       set.NewCounter(`earshot_client_too_fast_total`),
		throttled:     set.NewCounter(`earshot_listen_throttled_total`),
		refusedBusy:   set.NewCounter(`earshot_sessions_refused_busy_total`),
		captureSec:    set.NewFloatCounter(`earshot_audio_capture_seconds_total`),
		sessionSec:    set.NewPrometheusHistogram(`earshot_session_duration_seconds`),
		connector:     connector.NewMetrics(set),
		fanout:        fanout.NewMetrics(set),
		gate:          gate.NewMetrics(set),
		ingest:        ingest.NewMetrics(set),
	}
}

// closed counts sessions by the close code the client saw. Codes outside
// the registered range (and 4001) are folded into "other" to keep the label set small.
func (m *serverMetrics) closed(code int) {
	label := "other"
	if (code >= 1000 && code <= 1015) || code == 4001 {
		label = strconv.Itoa(code)
	}
	m.set.GetOrCreateCounter(`earshot_sessions_closed_total{code="` + label + `"}`).Inc()
}

// controlMessage counts a client text message of kind k (one of
// controlKinds).
func (m *serverMetrics) controlMessage(k string) {
	if c, ok := m.messages[k]; ok {
		c.Inc()
	}
}
