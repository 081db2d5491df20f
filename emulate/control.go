package emulate

import (
	"encoding/json"
	"fmt"
)

// control is a client control message, sent as a text frame.
type control int

const (
	controlKeepAlive control = iota + 1
	controlFinalize
	controlCloseStream
)

// String returns the message's "type" value.
func (c control) String() string {
	switch c {
	case controlKeepAlive:
		return "KeepAlive"
	case controlFinalize:
		return "Finalize"
	case controlCloseStream:
		return "CloseStream"
	default:
		return fmt.Sprintf("control(%d)", int(c))
	}
}

// maxControlBytes bounds the text frames parseControl looks at; real control
// messages are a few dozen bytes.
const maxControlBytes = 4096

// parseControl decodes a text frame: a JSON object whose "type" member (key
// matched exactly) is "KeepAlive", "Finalize" or "CloseStream"
// (case-sensitive, as Deepgram). Other members are ignored. Anything else
// returns an error wrapping ErrBadControl; the caller ignores such frames.
func parseControl(b []byte) (control, error) {
	if len(b) > maxControlBytes {
		return 0, fmt.Errorf("%w: %d bytes", ErrBadControl, len(b))
	}
	// A map keeps the key match exact (struct decoding folds case).
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(b, &msg); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrBadControl, err)
	}
	raw, ok := msg["type"]
	if !ok {
		return 0, fmt.Errorf("%w: no type", ErrBadControl)
	}
	var typ string
	if err := json.Unmarshal(raw, &typ); err != nil {
		return 0, fmt.Errorf("%w: type: %w", ErrBadControl, err)
	}
	switch typ {
	case "KeepAlive":
		return controlKeepAlive, nil
	case "Finalize":
		return controlFinalize, nil
	case "CloseStream":
		return controlCloseStream, nil
	default:
		return 0, fmt.Errorf("%w: unknown type %q", ErrBadControl, typ)
	}
}
