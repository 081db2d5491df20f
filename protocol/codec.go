package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNotProtocol means a text frame is not one of the server's messages
// (not a JSON array of segments nor a JSON event object); the ping is
// one of these, and clients ignore them.
var ErrNotProtocol = errors.New("not a listen protocol message")

// EncodeSegments renders segs as the server's segment frame: a bare JSON
// array.
func EncodeSegments(segs []Segment) ([]byte, error) {
	b, err := json.Marshal(segs)
	if err != nil {
		return nil, fmt.Errorf("encode segments: %w", err)
	}
	return b, nil
}

// EncodeEvent renders e as a text frame.
func EncodeEvent(e Event) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", e.Type, err)
	}
	return b, nil
}

// Decode parses a text frame from the server: a segment array (segs set)
// or an event (ev set, Type not empty). Anything else, the ping included,
// returns an error wrapping ErrNotProtocol; a frame that looks like JSON
// but does not parse returns the JSON error too. Decode never panics.
func Decode(b []byte) (segs []Segment, ev Event, err error) {
	trim := bytes.TrimSpace(b)
	switch {
	case len(trim) > 0 && trim[0] == '[':
		if err := json.Unmarshal(trim, &segs); err != nil {
			return nil, Event{}, fmt.Errorf("%w: segments: %w", ErrNotProtocol, err)
		}
		return segs, Event{}, nil
	case len(trim) > 0 && trim[0] == '{':
		if err := json.Unmarshal(trim, &ev); err != nil {
			return nil, Event{}, fmt.Errorf("%w: event: %w", ErrNotProtocol, err)
		}
		if ev.Type == "" {
			return nil, Event{}, fmt.Errorf("%w: event without a type", ErrNotProtocol)
		}
		return nil, ev, nil
	default:
		return nil, Event{}, ErrNotProtocol
	}
}
