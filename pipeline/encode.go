package pipeline

import (
	"encoding/json"

	"earshot/stages"
)

// encodeMessage renders a fan-out message in the client protocol as one or
// two text frames: a bare JSON array of the changed segments, then a
// segments_deleted event if merging removed segments; or one
// service_status event. Segments go first so that a client never holds
// less text than before.
func encodeMessage(m stages.Message) ([][]byte, error) {
	var frames [][]byte
	if len(m.Segments) > 0 {
		b, err := json.Marshal(m.Segments)
		if err != nil {
			return nil, err
		}
		frames = append(frames, b)
	}
	if len(m.Deleted) > 0 {
		b, err := json.Marshal(deletedEvent{Type: "segments_deleted", SegmentIDs: m.Deleted})
		if err != nil {
			return nil, err
		}
		frames = append(frames, b)
	}
	if m.Status != "" {
		b, err := json.Marshal(statusEvent{Type: "service_status", Status: m.Status, StatusText: m.StatusText})
		if err != nil {
			return nil, err
		}
		frames = append(frames, b)
	}
	return frames, nil
}

type deletedEvent struct {
	Type       string   `json:"type"`
	SegmentIDs []string `json:"segment_ids"`
}

type statusEvent struct {
	Type       string `json:"type"`
	Status     string `json:"status"`
	StatusText string `json:"status_text,omitempty"`
}
