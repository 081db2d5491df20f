package record

import (
	"maps"
	"slices"

	"github.com/VictoriaMetrics/metrics"

	"earshot/protocol/pusher"
)

// Metric names (Prometheus text on /metrics).
const (
	metricConnections = `earshot_record_connections`
	metricFrames      = `earshot_record_frames_total`
	metricAudioBytes  = `earshot_record_audio_bytes_total`
	metricSegments    = `earshot_record_segments_total`
	metricFinished    = `earshot_record_conversations_finished_total`
	metricDropped     = `earshot_record_dropped_frames_total`
)

// dropReason is the bounded "reason" label of dropped frames.
type dropReason string

// Why a frame was dropped.
const (
	dropShort       dropReason = "short_frame"         // shorter than its header
	dropText        dropReason = "text_frame"          // a text message
	dropUnknownKind dropReason = "unknown_kind"        // a header this receiver does not take
	dropBadPayload  dropReason = "bad_payload"         // audio or JSON that does not parse
	dropBadID       dropReason = "bad_conversation_id" // an invalid id in a 103, 102, 104 or 105
	dropNoConv      dropReason = "no_conversation"     // audio before any valid 103
	dropFinished    dropReason = "finished"            // data for a finished conversation
	dropGapTooLarge dropReason = "gap_too_large"       // audio beyond Config.MaxGapSec
	dropTooLong     dropReason = "too_long"            // audio beyond the WAV size limit
	dropOwner       dropReason = "owner_mismatch"      // another uid's or sample rate's conversation
	dropDiskError   dropReason = "disk_error"          // a write failed; the frame left no trace
	dropUnreadable  dropReason = "unreadable"          // the conversation's files cannot be read
)

var dropReasons = []dropReason{
	dropShort, dropText, dropUnknownKind, dropBadPayload, dropBadID, dropNoConv,
	dropFinished, dropGapTooLarge, dropTooLong, dropOwner, dropDiskError, dropUnreadable,
}

// kindLabels are the "kind" labels of received frames; any other header
// (or none) is "unknown", a text message "text".
var kindLabels = map[pusher.Kind]string{
	pusher.KindHeartbeat:      "heartbeat",
	pusher.KindAudio:          "audio",
	pusher.KindSegments:       "segments",
	pusher.KindConversation:   "conversation",
	pusher.KindProcess:        "process",
	pusher.KindSpeakerSamples: "speaker_samples",
}

// recMetrics are a Recorder's series. Every field is safe for
// concurrent use; the maps are read-only after newMetrics.
type recMetrics struct {
	connections   *metrics.Gauge              // WebSocket connections open now
	frames        map[string]*metrics.Counter // messages received, by kind label
	audioBytes    *metrics.Counter            // PCM bytes of well-formed audio frames
	segments      *metrics.Counter            // segment lines appended
	finishedOK    *metrics.Counter            // conversations finalized (not counting repeated 104s)
	finishedError *metrics.Counter            // 104s answered with an error
	dropped       map[dropReason]*metrics.Counter
}

// newMetrics registers every series in set, each label value included,
// so that /metrics shows zeros before the first event.
func newMetrics(set *metrics.Set) *recMetrics {
	m := &recMetrics{
		connections:   set.GetOrCreateGauge(metricConnections, nil),
		frames:        map[string]*metrics.Counter{},
		audioBytes:    set.GetOrCreateCounter(metricAudioBytes),
		segments:      set.GetOrCreateCounter(metricSegments),
		finishedOK:    set.GetOrCreateCounter(metricFinished + `{result="ok"}`),
		finishedError: set.GetOrCreateCounter(metricFinished + `{result="error"}`),
		dropped:       map[dropReason]*metrics.Counter{},
	}
	for _, k := range append([]string{"unknown", "text"}, slices.Collect(maps.Values(kindLabels))...) {
		m.frames[k] = set.GetOrCreateCounter(metricFrames + `{kind="` + k + `"}`)
	}
	for _, r := range dropReasons {
		m.dropped[r] = set.GetOrCreateCounter(metricDropped + `{reason="` + string(r) + `"}`)
	}
	return m
}

// frame counts a received binary frame of kind.
func (m *recMetrics) frame(kind pusher.Kind) {
	label, ok := kindLabels[kind]
	if !ok {
		label = "unknown"
	}
	m.frames[label].Inc()
}

// drop counts a dropped frame.
func (m *recMetrics) drop(r dropReason) { m.dropped[r].Inc() }
