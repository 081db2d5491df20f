package fanout

import "github.com/VictoriaMetrics/metrics"

// Metrics are the fan-out stage's server-wide metrics.
type Metrics struct {
	set *metrics.Set
	// Segments counts segment updates produced (new, grown, or sent again
	// because a speaker assignment changed their person).
	Segments *metrics.Counter
	// Assigned counts the speaker assignments applied.
	Assigned *metrics.Counter
	// Conversations counts the conversations started.
	Conversations *metrics.Counter
}

// NewMetrics registers the fan-out metrics in set.
func NewMetrics(set *metrics.Set) *Metrics {
	return &Metrics{
		set:           set,
		Segments:      set.NewCounter(`earshot_segment_updates_total`),
		Assigned:      set.NewCounter(`earshot_speaker_assignments_total`),
		Conversations: set.NewCounter(`earshot_conversations_total`),
	}
}

// dropped counts messages a sink's overflow policy discarded.
func (m *Metrics) dropped(sink string) *metrics.Counter {
	return m.set.GetOrCreateCounter(`earshot_sink_dropped_total{sink="` + sink + `"}`)
}
