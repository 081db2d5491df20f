package packets

import (
	"encoding/binary"
	"fmt"
	"time"
)

// The LC3 file format of liblc3's tools (elc3 writes it, dlc3 reads it),
// all integers little-endian 16-bit:
//
//	offset  field
//	0       file id, 0xcc1c
//	2       header size in bytes (18; larger when extended parameters,
//	        such as newer liblc3's high-resolution flag, follow)
//	4       sample rate / 100 Hz
//	6       bitrate / 100 bit/s
//	8       channels
//	10      frame duration / 10 us (1000 for 10 ms, 750 for 7.5 ms)
//	12      reserved (EP mode in some versions; 0 from elc3)
//	14      samples per channel, low 16 bits
//	16      samples per channel, high 16 bits
//
// then, after header size bytes, one record per frame interval: a 16-bit
// byte count and that many bytes, the channels' frames one after the
// other (equal sizes).
const (
	lc3FileID     = 0xcc1c
	lc3HeaderSize = 18
	// lc3MaxFrame is liblc3's LC3_MAX_FRAME_BYTES, the largest frame of
	// one channel; dlc3 rejects a record larger than channels times it.
	lc3MaxFrame = 400
)

// LC3Header is the header of an LC3 file, as ParseLC3File read it.
type LC3Header struct {
	// HeaderSize is the header's length in bytes, 18 or more; bytes past
	// the 18 described here are skipped.
	HeaderSize int
	// SampleRate is the stream's rate in Hz (a multiple of 100).
	SampleRate int
	// Bitrate is the nominal bitrate in bit/s (a multiple of 100).
	Bitrate int
	// Channels is the number of channels, at least 1; a frame record
	// holds one frame per channel.
	Channels int
	// FrameDuration is the duration of a frame (a multiple of 10 us).
	FrameDuration time.Duration
	// Reserved is the 16-bit field at offset 12, 0 from elc3.
	Reserved uint16
	// Samples is the number of samples per channel of the encoded
	// audio. The file holds more: elc3 encodes the codec's delay on top
	// (dlc3 drops it from the start of its output and trims the end to
	// Samples).
	Samples int
}

// ParseLC3File parses b, a whole LC3 file as liblc3's elc3 writes it,
// into its header and its frame records: each record's bytes (one frame
// per channel, one after the other), without the byte count. The frames
// alias b, each capped at its own length.
//
// The file id must be 0xcc1c, the header size at least 18 and Channels
// at least 1; each record's byte count must be non-zero, a multiple of
// Channels and at most Channels * 400 bytes (LC3's largest frame), as
// dlc3 requires. The rates and durations are reported, not checked. An
// error wraps ErrBadLC3 (and also ErrTruncated when b ends inside the
// header or a record) and comes with the header, once read, and the
// frames before the bad one.
func ParseLC3File(b []byte) (LC3Header, [][]byte, error) {
	var h LC3Header
	if len(b) < lc3HeaderSize {
		return h, nil, fmt.Errorf("%w: %w: header: %d of %d bytes", ErrBadLC3, ErrTruncated, len(b), lc3HeaderSize)
	}
	u16 := func(off int) int { return int(binary.LittleEndian.Uint16(b[off:])) }
	if id := u16(0); id != lc3FileID {
		return h, nil, fmt.Errorf("%w: file id %#04x, want %#04x", ErrBadLC3, id, lc3FileID)
	}
	h = LC3Header{
		HeaderSize:    u16(2),
		SampleRate:    u16(4) * 100,
		Bitrate:       u16(6) * 100,
		Channels:      u16(8),
		FrameDuration: time.Duration(u16(10)) * 10 * time.Microsecond,
		Reserved:      uint16(u16(12)),
		Samples:       u16(14) | u16(16)<<16,
	}
	if h.HeaderSize < lc3HeaderSize {
		return h, nil, fmt.Errorf("%w: header size %d, under %d", ErrBadLC3, h.HeaderSize, lc3HeaderSize)
	}
	if h.HeaderSize > len(b) {
		return h, nil, fmt.Errorf("%w: %w: header size %d, file %d bytes", ErrBadLC3, ErrTruncated, h.HeaderSize, len(b))
	}
	if h.Channels < 1 {
		return h, nil, fmt.Errorf("%w: no channels", ErrBadLC3)
	}
	var frames [][]byte
	for off := h.HeaderSize; off < len(b); {
		if len(b)-off < 2 {
			return h, frames, fmt.Errorf("%w: %w: byte count at offset %d", ErrBadLC3, ErrTruncated, off)
		}
		n := u16(off)
		if n == 0 || n%h.Channels != 0 || n > h.Channels*lc3MaxFrame {
			return h, frames, fmt.Errorf("%w: frame at offset %d: %d bytes for %d channels", ErrBadLC3, off, n, h.Channels)
		}
		start := off + 2
		if len(b)-start < n {
			return h, frames, fmt.Errorf("%w: %w: frame at offset %d: %d of %d bytes", ErrBadLC3, ErrTruncated, off, len(b)-start, n)
		}
		end := start + n
		frames = append(frames, b[start:end:end])
		off = end
	}
	return h, frames, nil
}

// ADTS header sizes: without and with the 16-bit CRC that follows the
// fixed and variable header when protection_absent is 0.
const (
	adtsHeader    = 7
	adtsHeaderCRC = 9
)

// SplitADTS splits b, an AAC stream in ADTS (ISO/IEC 13818-7 / 14496-3
// Audio Data Transport Stream), into its frames, each a whole ADTS frame
// with its header: what a client sends for codec aac, one frame per
// packet. Each frame must start with the 12-bit syncword 0xFFF and layer
// 0, and its 13-bit frame_length (which counts the header: 7 bytes, or 9
// when protection_absent is 0 and a CRC follows) must exceed the header
// and fit in what is left of b. Nothing else of the header is checked;
// the frames are not decoded.
//
// The frames alias b, each capped at its own length. An empty b yields no
// frames and no error. An error wraps ErrBadADTS (and also ErrTruncated
// when b ends inside a frame or its header) and comes with the frames
// before the bad one.
func SplitADTS(b []byte) ([][]byte, error) {
	var frames [][]byte
	for off := 0; off < len(b); {
		n, err := adtsFrameLen(b[off:])
		if err != nil {
			return frames, fmt.Errorf("%w: frame at offset %d: %w", ErrBadADTS, off, err)
		}
		frames = append(frames, b[off:off+n:off+n])
		off += n
	}
	return frames, nil
}

// adtsFrameLen checks the ADTS header at the start of b and returns the
// length of the frame it begins, which fits in b.
func adtsFrameLen(b []byte) (int, error) {
	if len(b) < adtsHeader {
		// Check what there is of the syncword first: a stray byte is bad
		// data, not a truncated frame.
		if b[0] != 0xff || (len(b) > 1 && b[1]&0xf6 != 0xf0) {
			return 0, fmt.Errorf("no syncword (% x)", b)
		}
		return 0, fmt.Errorf("%w: header: %d of %d bytes", ErrTruncated, len(b), adtsHeader)
	}
	// 0xFFF syncword, then ID (either), layer (must be 00), then
	// protection_absent.
	if b[0] != 0xff || b[1]&0xf6 != 0xf0 {
		return 0, fmt.Errorf("no syncword/layer 0 (%02x %02x)", b[0], b[1])
	}
	hdr := adtsHeader
	if b[1]&0x01 == 0 {
		hdr = adtsHeaderCRC
	}
	n := int(b[3]&0x03)<<11 | int(b[4])<<3 | int(b[5])>>5
	if n <= hdr {
		return 0, fmt.Errorf("frame_length %d, header %d bytes", n, hdr)
	}
	if n > len(b) {
		return 0, fmt.Errorf("%w: frame_length %d, %d bytes left", ErrTruncated, n, len(b))
	}
	return n, nil
}
