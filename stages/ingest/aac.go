package ingest

import (
	"fmt"

	"earshot/internal/libav"
)

// aacDecoder decodes AAC-LC in ADTS with FFmpeg's libavcodec, which
// parses the stream itself: binary frames may split it anywhere. Its
// output is mixed to mono and resampled to the session's rate when the
// stream's own rate differs.
type aacDecoder struct {
	dec     *libav.AACDecoder
	scratch []int16
}

func newAAC(rateHz int) (*aacDecoder, error) {
	d, err := libav.NewAACDecoder(rateHz)
	if err != nil {
		return nil, &FormatError{fmt.Sprintf("codec aac: %v", err)}
	}
	return &aacDecoder{dec: d, scratch: make([]int16, 0, 4096)}, nil
}

func (a *aacDecoder) decode(dst, frame []byte) ([]byte, int, error) {
	pcm, err := a.dec.Decode(frame, a.scratch[:0])
	a.scratch = pcm[:0]
	dst = appendInt16(dst, pcm)
	if err != nil {
		// libavcodec skips a frame it refuses: nothing stands in for it.
		return dst, 0, fmt.Errorf("%w: aac: %w", ErrBadPacket, err)
	}
	return dst, 0, nil
}

func (a *aacDecoder) close() { a.dec.Close() }
