package ingest

import "github.com/VictoriaMetrics/metrics"

// Metrics are the ingest stage's server-wide metrics. Build one per server
// with NewMetrics and share it among sessions; a nil *Metrics counts
// nothing.
type Metrics struct {
	decodeErrors map[Codec]*metrics.Counter
	demuxSkipped *metrics.Counter
}

// NewMetrics registers, in set, earshot_decode_errors_total{codec} for
// every codec that decodes packets, and earshot_demux_skipped_frames_total
// (multi-channel frames a Demux dropped: no channel id of the session, or
// no payload). It panics if they are already registered there (one set
// per server).
func NewMetrics(set *metrics.Set) *Metrics {
	m := &Metrics{
		decodeErrors: map[Codec]*metrics.Counter{},
		demuxSkipped: set.NewCounter(`earshot_demux_skipped_frames_total`),
	}
	for _, in := range Codecs() {
		switch in.Codec {
		case CodecPCM8, CodecPCM16, CodecMulaw8, CodecMulaw16:
			continue // nothing to get wrong
		}
		m.decodeErrors[in.Codec] = set.NewCounter(`earshot_decode_errors_total{codec="` + string(in.Codec) + `"}`)
	}
	return m
}

// decodeError counts one packet of codec c that could not be decoded.
func (m *Metrics) decodeError(c Codec) {
	if m == nil {
		return
	}
	if ctr := m.decodeErrors[c]; ctr != nil {
		ctr.Inc()
	}
}

// demuxSkip counts one multi-channel frame a Demux skipped.
func (m *Metrics) demuxSkip() {
	if m == nil {
		return
	}
	m.demuxSkipped.Inc()
}
