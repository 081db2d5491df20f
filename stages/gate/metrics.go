package gate

import "github.com/VictoriaMetrics/metrics"

// Metrics are the VAD gate's server-wide metrics. Build one per server
// with NewMetrics and share it among sessions.
type Metrics struct {
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

// NewMetrics registers the gate metrics in set. It panics if they are
// already registered there (one set per server).
func NewMetrics(set *metrics.Set) *Metrics {
	m := &Metrics{
		set:               set,
		SpeechSeconds:     set.NewFloatCounter(`earshot_gate_speech_seconds_total`),
		HeldSeconds:       set.NewFloatCounter(`earshot_gate_held_seconds_total{mode="active"}`),
		ShadowHeldSeconds: set.NewFloatCounter(`earshot_gate_held_seconds_total{mode="shadow"}`),
		Onsets:            set.NewCounter(`earshot_gate_onsets_total`),
		FailOpens:         set.NewCounter(`earshot_gate_fail_open_total`),
	}
	for _, mode := range []Mode{Off, Shadow, Active} {
		m.sessions(mode)
	}
	return m
}

// sessions counts sessions by the mode their gate started in.
func (m *Metrics) sessions(mode Mode) *metrics.Counter {
	return m.set.GetOrCreateCounter(`earshot_gate_sessions_total{mode="` + string(mode) + `"}`)
}
