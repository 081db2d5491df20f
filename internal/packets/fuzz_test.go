package packets_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/packets"
)

// The seeds are the real fixtures cut after the first whole record (or
// page) past seedBytes: whole files would have the fuzzer spend its
// time minimising.
const seedBytes = 2048

// seed returns the fixture name up to the first record boundary past
// seedBytes, starting at off; next returns the offset after the record
// at off of b.
func seed(tb testing.TB, name string, off int, next func(b []byte, off int) int) []byte {
	b := fixture(tb, name)
	for off < len(b) && off < seedBytes {
		off = next(b, off)
	}
	return b[:min(off, len(b))]
}

// pktNext, adtsNext, lc3Next and oggNext step over a .pkt record, an
// ADTS frame, an LC3 record and an Ogg page.
func pktNext(b []byte, off int) int { return off + 2 + int(binary.BigEndian.Uint16(b[off:])) }

func adtsNext(b []byte, off int) int {
	return off + (int(b[off+3]&3)<<11 | int(b[off+4])<<3 | int(b[off+5])>>5)
}

func lc3Next(b []byte, off int) int { return off + 2 + int(binary.LittleEndian.Uint16(b[off:])) }

func oggNext(b []byte, off int) int {
	n := int(b[off+26])
	end := off + 27 + n
	for _, l := range b[off+27 : off+27+n] {
		end += int(l)
	}
	return end
}

// TestFuzzSeeds checks that the seeds cut from the fixtures are whole
// files, which the parsers accept.
func TestFuzzSeeds(t *testing.T) {
	b := seed(t, "opus-celt10-fox.pkt", 0, pktNext)
	td.Cmp(t, len(b), td.Between(seedBytes, 2*seedBytes))
	_, err := packets.Parse(b)
	td.CmpNoError(t, err)
	b = seed(t, "aac-fox.aac", 0, adtsNext)
	td.Cmp(t, len(b), td.Between(seedBytes, 2*seedBytes))
	_, err = packets.SplitADTS(b)
	td.CmpNoError(t, err)
	b = seed(t, "lc3-fs1030-fox.lc3", 18, lc3Next)
	td.Cmp(t, len(b), td.Between(seedBytes, 2*seedBytes))
	_, _, err = packets.ParseLC3File(b)
	td.CmpNoError(t, err)
	for _, n := range []string{"opus-celt10-fox.opus", "opus-hybrid20-fox.opus"} {
		b = seed(t, n, 0, oggNext)
		td.Cmp(t, len(b), td.Between(seedBytes, 3*seedBytes), n)
		pkts, _, err := packets.OggOpusPackets(bytes.NewReader(b))
		td.CmpNoError(t, err, n)
		td.Cmp(t, len(pkts), td.Gt(10), n)
	}
}

// FuzzParse: Parse never panics; what it accepts, Write gives back byte
// for byte; what it rejects is truncation, after packets that are a
// prefix of the input's records.
func FuzzParse(f *testing.F) {
	for _, n := range []string{"opus-celt10-fox.pkt", "opus-silk20-fox.pkt", "lc3-fs1030-fox.pkt", "aac-fox.pkt", "mulaw8-call.pkt"} {
		f.Add(seed(f, n, 0, pktNext))
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 1, 'a', 0})
	f.Add([]byte{0xff, 0xff, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		pkts, err := packets.Parse(b)
		var buf bytes.Buffer
		td.CmpNoError(t, packets.Write(&buf, pkts))
		if err != nil {
			td.CmpErrorIs(t, err, packets.ErrTruncated)
			td.CmpTrue(t, bytes.HasPrefix(b, buf.Bytes()), "the packets before the error are the input's")
			td.Cmp(t, buf.Len(), td.Lt(len(b)))
			return
		}
		td.CmpTrue(t, bytes.Equal(buf.Bytes(), b), "Write(Parse(b)) == b")
	})
}

// FuzzSplitADTS: SplitADTS never panics; the frames it returns, on
// success or before an error, are consecutive pieces of the input from
// its start, each starting with a syncword and as long as its header
// says; on success they make up the whole input.
func FuzzSplitADTS(f *testing.F) {
	f.Add(seed(f, "aac-fox.aac", 0, adtsNext))
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xf1, 0x60, 0x40, 0x01, 0x1f, 0xfc, 0x00, 0x00})
	f.Add([]byte{0xff, 0xf0, 0x60, 0x40, 0x01, 0x5f, 0xfc, 0, 0, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		frames, err := packets.SplitADTS(b)
		joined := bytes.Join(frames, nil)
		td.CmpTrue(t, bytes.HasPrefix(b, joined), "the frames are the input's start")
		for _, fr := range frames {
			n := int(fr[3]&3)<<11 | int(fr[4])<<3 | int(fr[5])>>5
			td.Cmp(t, len(fr), n, "frame_length")
			td.Cmp(t, fr[0], byte(0xff))
			td.Cmp(t, fr[1]&0xf6, byte(0xf0))
		}
		if err != nil {
			td.CmpErrorIs(t, err, packets.ErrBadADTS)
			td.Cmp(t, len(joined), td.Lt(len(b)))
			return
		}
		td.Cmp(t, len(joined), len(b), "the frames make up the input")
	})
}

// FuzzParseLC3File: ParseLC3File never panics; what it accepts, its
// header bytes and the frames after their byte counts give back byte for
// byte; what it rejects wraps ErrBadLC3.
func FuzzParseLC3File(f *testing.F) {
	f.Add(seed(f, "lc3-fs1030-fox.lc3", 18, lc3Next))
	f.Add([]byte{})
	f.Add([]byte{0x1c, 0xcc, 0x14, 0, 0xa0, 0, 0xf0, 0, 2, 0, 0xe8, 3, 0, 0, 0, 0, 0, 0, 0xee, 0xee, 2, 0, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, frames, err := packets.ParseLC3File(b)
		if err != nil {
			td.CmpErrorIs(t, err, packets.ErrBadLC3)
			return
		}
		td.Cmp(t, h.HeaderSize, td.Gte(18))
		td.Cmp(t, h.Channels, td.Gte(1))
		out := bytes.Clone(b[:h.HeaderSize])
		for _, fr := range frames {
			td.Cmp(t, len(fr)%h.Channels, 0)
			out = binary.LittleEndian.AppendUint16(out, uint16(len(fr)))
			out = append(out, fr...)
		}
		td.CmpTrue(t, bytes.Equal(out, b), "header and records give back the input")
	})
}

// FuzzOggOpusPackets: OggOpusPackets never panics (pion's oggreader
// included), and an error is the package's.
func FuzzOggOpusPackets(f *testing.F) {
	f.Add(seed(f, "opus-celt10-fox.opus", 0, oggNext))
	f.Add(seed(f, "opus-hybrid20-fox.opus", 0, oggNext))
	f.Add(oggBytes(oggPages(opusHead(312), 3, append([][]byte{opusTags}, audio...)...)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		pkts, pre, err := packets.OggOpusPackets(bytes.NewReader(b))
		if err != nil {
			td.CmpTrue(t, errors.Is(err, packets.ErrBadOgg), "%v wraps ErrBadOgg", err)
			td.CmpNil(t, pkts)
			return
		}
		td.Cmp(t, pre, td.Between(0, 65535))
		td.Cmp(t, len(bytes.Join(pkts, nil)), td.Lt(len(b)))
	})
}
