package emulate

import (
	"encoding/json"
	"fmt"

	"earshot/stages"
)

// maxControlBytes bounds the text frames parseControl looks at; real control
// messages are a few dozen bytes.
const maxControlBytes = 4096

// parseControl decodes a text frame: a JSON object whose "type" member (key
// matched exactly) is "KeepAlive", "Finalize" or "CloseStream"
// (case-sensitive, as Deepgram). Other members are ignored. Anything else
// returns an error wrapping ErrBadControl; the caller ignores such frames.
func parseControl(b []byte) (stages.Control, error) {
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
		return stages.ControlKeepAlive, nil
	case "Finalize":
		return stages.ControlFinalize, nil
	case "CloseStream":
		return stages.ControlCloseStream, nil
	default:
		return 0, fmt.Errorf("%w: unknown type %q", ErrBadControl, typ)
	}
}
