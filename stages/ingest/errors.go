package ingest

import "errors"

// ErrBadAudio means a client's audio cannot be decoded (an unknown codec,
// or a frame its decoder refuses).
var ErrBadAudio = errors.New("bad audio")
