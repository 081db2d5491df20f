package packets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/pion/opus/pkg/oggreader"
)

// Ogg page header fields (RFC 3533) this file checks itself; pion's
// oggreader checks the CRC and reads the segments.
const (
	oggCapture     = "OggS"
	oggHeaderLen   = 27
	oggFlagCont    = 0x01 // the page's first packet continues the last page's
	oggFlagEOS     = 0x04 // last page of the logical stream
	oggMaxSegment  = 255  // a lacing value of 255: the packet goes on
	opusTagsMagic  = "OpusTags"
	opusVersionMax = 15 // RFC 7845: versions 0-15 share the format
)

// OggOpusPackets reads r, a whole Ogg Opus file (RFC 7845) of one logical
// stream, and returns its audio packets, in order, and the OpusHead
// pre-skip: the number of 48 kHz samples at the start of the decoded
// output that a player drops (the encoder's lookahead). The ID header
// (OpusHead) and comment header (OpusTags) packets are checked and left
// out; the audio packets are returned whole, however the pages' lacing
// split them (a packet may span pages: its segments are joined across
// page boundaries until a lacing value under 255 ends it); a
// zero-length packet comes back empty and non-nil. Packets are not
// decoded; multichannel packets are returned as they are. The end
// trimming the last page's granule position asks for is not applied.
//
// Pion's oggreader reads the pages and checks their CRCs; every page
// must also carry the "OggS" capture pattern and version 0, the first
// page's serial number and consecutive sequence numbers, and the
// continued-packet flag exactly when the previous page left a packet
// open; no page may follow the end-of-stream page. An error wraps
// ErrBadOgg (and also ErrTruncated when r ends inside a page or a
// packet), except an error from r itself, which is returned wrapped.
func OggOpusPackets(r io.Reader) (packets [][]byte, preSkip int, err error) {
	rec := &recorder{r: r}
	rd, head, err := oggreader.NewWith(rec)
	if err != nil {
		return nil, 0, rec.fail("OpusHead page", err)
	}
	if head.Version > opusVersionMax {
		return nil, 0, fmt.Errorf("%w: OpusHead version %d", ErrBadOgg, head.Version)
	}
	first := rec.page()
	if !bytes.Equal(first[:4], []byte(oggCapture)) || first[4] != 0 {
		return nil, 0, fmt.Errorf("%w: page 0: no capture pattern/version 0", ErrBadOgg)
	}
	if err := onePacket(first); err != nil {
		return nil, 0, err
	}
	serial := binary.LittleEndian.Uint32(first[14:])
	seq := binary.LittleEndian.Uint32(first[18:])
	eos := first[5]&oggFlagEOS != 0

	var pkts [][]byte // OpusTags first, then the audio
	var open []byte   // the packet the last segment left unfinished
	pending := false
	for {
		segs, _, err := rd.ParseNextPage()
		if errors.Is(err, io.EOF) && len(rec.buf) == 0 && rec.err == nil {
			break
		}
		if err != nil {
			return nil, 0, rec.fail(fmt.Sprintf("page %d", seq+1), err)
		}
		page := rec.page()
		switch {
		case !bytes.Equal(page[:4], []byte(oggCapture)) || page[4] != 0:
			return nil, 0, fmt.Errorf("%w: page %d: no capture pattern/version 0", ErrBadOgg, seq+1)
		case eos:
			return nil, 0, fmt.Errorf("%w: a page after the end-of-stream page", ErrBadOgg)
		case binary.LittleEndian.Uint32(page[14:]) != serial:
			return nil, 0, fmt.Errorf("%w: page %d: another stream's serial number", ErrBadOgg, seq+1)
		case binary.LittleEndian.Uint32(page[18:]) != seq+1:
			return nil, 0, fmt.Errorf("%w: page %d follows page %d", ErrBadOgg, binary.LittleEndian.Uint32(page[18:]), seq)
		case (page[5]&oggFlagCont != 0) != pending:
			return nil, 0, fmt.Errorf("%w: page %d: continued flag %t, a packet open %t", ErrBadOgg, seq+1, page[5]&oggFlagCont != 0, pending)
		}
		seq++
		eos = page[5]&oggFlagEOS != 0
		for _, s := range segs {
			open = append(open, s...)
			pending = len(s) == oggMaxSegment
			if !pending {
				if open == nil {
					open = []byte{} // a zero-length packet
				}
				pkts = append(pkts, open)
				open = nil
			}
		}
	}
	if pending {
		return nil, 0, fmt.Errorf("%w: %w: the last packet is not finished", ErrBadOgg, ErrTruncated)
	}
	if len(pkts) == 0 || !bytes.HasPrefix(pkts[0], []byte(opusTagsMagic)) {
		return nil, 0, fmt.Errorf("%w: no OpusTags packet after OpusHead", ErrBadOgg)
	}
	return pkts[1:], int(head.PreSkip), nil
}

// onePacket checks that the raw first page holds exactly one packet, the
// OpusHead, as RFC 7845 requires (oggreader would queue any other packet
// on it where the page reader used afterwards cannot see it).
func onePacket(page []byte) error {
	lacing := page[oggHeaderLen : oggHeaderLen+int(page[oggHeaderLen-1])]
	for i, l := range lacing {
		if (l < oggMaxSegment) != (i == len(lacing)-1) {
			return fmt.Errorf("%w: the first page holds more than the OpusHead packet", ErrBadOgg)
		}
	}
	return nil
}

// recorder passes reads through to r and keeps the bytes read since the
// last page call, so that the raw bytes of the page oggreader has just
// read, header and all, can be checked (oggreader reads each page with
// io.ReadFull, exactly its length, and nothing ahead). It also keeps r's
// first error other than io.EOF.
type recorder struct {
	r   io.Reader
	buf []byte
	err error
}

func (c *recorder) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.buf = append(c.buf, p[:n]...)
	if err != nil && !errors.Is(err, io.EOF) && c.err == nil {
		c.err = err
	}
	return n, err
}

// page returns the bytes recorded since the last call (one whole page,
// or more, after oggreader returned one) and starts recording afresh.
// The slice is valid until the next Read, which reuses its memory.
func (c *recorder) page() []byte {
	p := c.buf
	c.buf = c.buf[:0]
	return p
}

// fail turns an error oggreader returned while reading what into the
// package's: r's own error wrapped as such, a short read of what starts
// like a page as truncation, anything else as a bad stream.
func (c *recorder) fail(what string, err error) error {
	switch {
	case c.err != nil:
		return fmt.Errorf("packets: read: %w", c.err)
	case !bytes.HasPrefix([]byte(oggCapture), c.buf[:min(len(c.buf), len(oggCapture))]):
		return fmt.Errorf("%w: %s: no capture pattern", ErrBadOgg, what)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %w: %s", ErrBadOgg, ErrTruncated, what)
	}
	return fmt.Errorf("%w: %s: %w", ErrBadOgg, what, err)
}
