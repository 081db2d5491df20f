package ingest

import (
	"fmt"

	"earshot/internal/liblc3"
)

// lc3FS1030Bytes is the frame size of codec lc3_fs1030: 30 bytes per
// 10 ms (24 kbit/s).
const lc3FS1030Bytes = 30

// lc3FrameUs is the LC3 frame duration Omi's devices use.
const lc3FrameUs = 10000

// lc3Decoder decodes LC3 with liblc3. With size 0 (codec lc3) a binary
// frame is one LC3 frame of any valid size; with size > 0 (lc3_fs1030)
// it holds whole frames of that size, one or more, split here. A bad
// frame is concealed by liblc3's own packet-loss concealment.
type lc3Decoder struct {
	dec     *liblc3.Decoder
	size    int
	scratch []int16
}

func newLC3(rateHz, size int) (*lc3Decoder, error) {
	d, err := liblc3.NewDecoder(rateHz, lc3FrameUs)
	if err != nil {
		return nil, &FormatError{fmt.Sprintf("codec lc3: %v", err)}
	}
	return &lc3Decoder{dec: d, size: size, scratch: make([]int16, d.FrameSamples())}, nil
}

func (l *lc3Decoder) decode(dst, frame []byte) ([]byte, int, error) {
	size := l.size
	if size <= 0 {
		size = len(frame)
	}
	var (
		bad       error
		concealed int
	)
	for off := 0; off < len(frame); off += size {
		f := frame[off:min(off+size, len(frame))]
		if len(f) != size {
			f = nil // a partial frame: concealed
		}
		_, err := l.dec.Decode(f, l.scratch)
		if err != nil || f == nil {
			concealed += len(l.scratch)
			bad = fmt.Errorf("%w: lc3: %d bytes: %w", ErrBadPacket, len(frame[off:min(off+size, len(frame))]), err)
		}
		dst = appendInt16(dst, l.scratch)
	}
	return dst, concealed, bad
}

func (l *lc3Decoder) close() { l.dec.Close() }
