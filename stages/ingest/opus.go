package ingest

import (
	"fmt"

	"github.com/pion/opus"
)

// maxOpusSamples is the longest Opus packet (120 ms) at the highest rate
// a decoder produces (48 kHz).
const maxOpusSamples = 120 * 48

// opusDecoder decodes one Opus packet per frame with pion/opus (SILK,
// CELT and hybrid, pure Go) at the session's rate. Any packet duration up
// to 120 ms is accepted (Omi's decoder is sized the same), whatever the
// codec name promised: the clock advances by what each packet holds.
type opusDecoder struct {
	dec     opus.Decoder
	scratch []int16
}

func newOpus(rateHz int) (*opusDecoder, error) {
	d, err := opus.NewDecoderWithOutput(rateHz, 1)
	if err != nil {
		return nil, &FormatError{fmt.Sprintf("codec opus cannot produce sample_rate %d", rateHz)}
	}
	return &opusDecoder{dec: d, scratch: make([]int16, maxOpusSamples)}, nil
}

func (o *opusDecoder) decode(dst, frame []byte) ([]byte, int, error) {
	n, err := o.dec.DecodeToInt16(frame, o.scratch)
	if err != nil {
		return dst, 0, fmt.Errorf("%w: opus: %w", ErrBadPacket, err)
	}
	return appendInt16(dst, o.scratch[:n]), 0, nil
}

func (o *opusDecoder) close() {}
