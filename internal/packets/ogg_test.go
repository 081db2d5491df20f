package packets_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/packets"
)

// oggPage is an Ogg page to serialise (RFC 3533), CRC computed.
type oggPage struct {
	flags       byte // 0x01 continued, 0x02 BOS, 0x04 EOS
	serial, seq uint32
	lacing      []byte
	body        []byte
}

func (p oggPage) bytes() []byte {
	b := []byte("OggS\x00")
	b = append(b, p.flags)
	b = binary.LittleEndian.AppendUint64(b, 0) // granule position
	b = binary.LittleEndian.AppendUint32(b, p.serial)
	b = binary.LittleEndian.AppendUint32(b, p.seq)
	b = binary.LittleEndian.AppendUint32(b, 0) // CRC, below
	b = append(b, byte(len(p.lacing)))
	b = append(append(b, p.lacing...), p.body...)
	binary.LittleEndian.PutUint32(b[22:], oggCRC(b))
	return b
}

// oggCRC is Ogg's CRC-32: polynomial 0x04c11db7, MSB first, initial 0,
// no final XOR.
func oggCRC(b []byte) uint32 {
	var c uint32
	for _, v := range b {
		c ^= uint32(v) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04c11db7
			} else {
				c <<= 1
			}
		}
	}
	return c
}

// opusHead is an OpusHead packet: version 1, mono, the pre-skip, 16 kHz
// input, no gain, mapping family 0.
func opusHead(preSkip int) []byte {
	b := []byte("OpusHead\x01\x01")
	b = binary.LittleEndian.AppendUint16(b, uint16(preSkip))
	b = binary.LittleEndian.AppendUint32(b, 16000)
	return append(b, 0, 0, 0)
}

var opusTags = []byte("OpusTags\x04\x00\x00\x00test\x00\x00\x00\x00")

// oggPages lays out an Ogg Opus stream of serial 7: head alone on the
// BOS page, then the other packets laced onto pages of at most segs
// segments each, split across pages where they do not fit, the last page
// flagged EOS.
func oggPages(head []byte, segs int, pkts ...[]byte) []oggPage {
	pages := []oggPage{{flags: 0x02, serial: 7, lacing: []byte{byte(len(head))}, body: head}}
	cur := oggPage{serial: 7, seq: 1}
	for _, p := range pkts {
		lacing := bytes.Repeat([]byte{255}, len(p)/255)
		lacing = append(lacing, byte(len(p)%255))
		for i, l := range lacing {
			if len(cur.lacing) == segs {
				pages = append(pages, cur)
				cur = oggPage{serial: 7, seq: cur.seq + 1}
				if i > 0 {
					cur.flags = 0x01
				}
			}
			cur.lacing = append(cur.lacing, l)
			cur.body = append(cur.body, p[255*i:255*i+int(l)]...)
		}
	}
	cur.flags |= 0x04
	return append(pages, cur)
}

func oggBytes(pages []oggPage) []byte {
	var b []byte
	for _, p := range pages {
		b = append(b, p.bytes()...)
	}
	return b
}

// pattern returns n bytes counting up from tag.
func pattern(n int, tag byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = tag + byte(i)
	}
	return b
}

// audio are packets whose lacing exercises every case: 255 and 510
// bytes end with a 0 lacing value, the long ones span pages at 3
// segments a page.
var audio = [][]byte{pattern(1, 1), pattern(254, 2), pattern(255, 3), pattern(510, 4), pattern(600, 5), {}, pattern(1000, 6), pattern(40, 7)}

func TestOggOpusPackets(t *testing.T) {
	for _, segs := range []int{1, 2, 3, 255} {
		pages := oggPages(opusHead(312), segs, append([][]byte{opusTags}, audio...)...)
		got, pre, err := packets.OggOpusPackets(iotest.HalfReader(bytes.NewReader(oggBytes(pages))))
		td.CmpNoError(t, err, "%d segments a page", segs)
		td.Cmp(t, pre, 312)
		td.Cmp(t, got, audio, "%d segments a page (%d pages)", segs, len(pages))
	}

	// OpusTags spanning pages, no audio.
	tags := append(append([]byte(nil), opusTags...), pattern(700, 9)...)
	got, pre, err := packets.OggOpusPackets(bytes.NewReader(oggBytes(oggPages(opusHead(120), 2, tags))))
	td.CmpNoError(t, err)
	td.Cmp(t, pre, 120)
	td.CmpEmpty(t, got)
}

func TestOggOpusPacketsErrors(t *testing.T) {
	pkts := append([][]byte{opusTags}, audio...)
	stream := func(edit func([]oggPage) []oggPage) []byte {
		return oggBytes(edit(oggPages(opusHead(312), 3, pkts...)))
	}
	good := stream(func(p []oggPage) []oggPage { return p })
	last := oggPages(opusHead(312), 3, pkts...)
	lastPage := last[len(last)-1].bytes()
	flipped := bytes.Clone(good)
	flipped[len(flipped)-1] ^= 1

	for _, tc := range []struct {
		name      string
		in        []byte
		truncated bool
	}{
		{"empty", nil, true},
		{"not Ogg", []byte("RIFF....WAVEfmt ........................"), false},
		{"CRC", flipped, false},
		{"continued flag missing", stream(func(p []oggPage) []oggPage { p[3].flags &^= 0x01; return p }), false},
		{"continued flag stray", stream(func(p []oggPage) []oggPage { p[1].flags |= 0x01; return p }), false},
		{"page lost", stream(func(p []oggPage) []oggPage { return append(p[:2], p[3:]...) }), false},
		{"sequence", stream(func(p []oggPage) []oggPage { p[2].seq = 9; return p }), false},
		{"serial", stream(func(p []oggPage) []oggPage { p[2].serial = 8; return p }), false},
		{"page after EOS", stream(func(p []oggPage) []oggPage { p[2].flags |= 0x04; return p }), false},
		{"capture pattern", rawEdit(pkts, 2, 3, 'X'), false},
		{"version 1", rawEdit(pkts, 2, 4, 1), false},
		{"head page version 1", rawEdit(pkts, 0, 4, 1), false},
		{"head page with two packets", stream(func(p []oggPage) []oggPage {
			p[0].lacing, p[0].body = []byte{19, 2}, append(opusHead(312), 'h', 'i')
			return p
		}), false},
		{"head version 16", stream(func(p []oggPage) []oggPage { p[0].body[8] = 16; return p }), false},
		{"no OpusHead", stream(func(p []oggPage) []oggPage { p[0].body[0] = 'X'; return p }), false},
		{"no OpusTags", oggBytes(oggPages(opusHead(312), 3, audio...)), false},
		{"head only", oggBytes(oggPages(opusHead(312), 3)), false},
		{"cut in a page header", good[:len(good)-len(lastPage)+10], true},
		{"cut after a page header", good[:len(good)-len(lastPage)+27], true},
		{"cut in a page body", good[:len(good)-1], true},
		{"unfinished packet", stream(func(p []oggPage) []oggPage {
			p[len(p)-1].flags &^= 0x04
			return append(p, oggPage{flags: 0x04, serial: 7, seq: p[len(p)-1].seq + 1, lacing: []byte{255}, body: pattern(255, 0)})
		}), true},
	} {
		_, _, err := packets.OggOpusPackets(bytes.NewReader(tc.in))
		td.CmpErrorIs(t, err, packets.ErrBadOgg, tc.name)
		td.Cmp(t, errors.Is(err, packets.ErrTruncated), tc.truncated, "%s: truncated (%v)", tc.name, err)
	}
}

// rawEdit returns the stream of pkts at 3 segments a page with byte off
// of page n set to v, the page's CRC still right.
func rawEdit(pkts [][]byte, n, off int, v byte) []byte {
	var b []byte
	for i, p := range oggPages(opusHead(312), 3, pkts...) {
		pb := p.bytes()
		if i == n {
			pb[off] = v
			binary.LittleEndian.PutUint32(pb[22:], 0)
			binary.LittleEndian.PutUint32(pb[22:], oggCRC(pb))
		}
		b = append(b, pb...)
	}
	return b
}

func TestOggOpusPacketsReadError(t *testing.T) {
	boom := errors.New("boom")
	stream := oggBytes(oggPages(opusHead(312), 3, append([][]byte{opusTags}, audio...)...))
	for _, n := range []int{0, 10, 100, len(stream) - 1} {
		_, _, err := packets.OggOpusPackets(io.MultiReader(bytes.NewReader(stream[:n]), iotest.ErrReader(boom)))
		td.CmpErrorIs(t, err, boom, "error after %d bytes", n)
		td.CmpFalse(t, errors.Is(err, packets.ErrBadOgg), "after %d bytes: r's error, not a bad stream", n)
	}
}

// TestOggOpusPacketsFFmpeg reads FFmpeg's libopus output for the fox
// fixture: 404 CELT-only wideband 10 ms packets (TOC config 22, one
// frame), pre-skip 120 (restricted low delay: 2.5 ms of lookahead).
func TestOggOpusPacketsFFmpeg(t *testing.T) {
	got, pre, err := packets.OggOpusPackets(bytes.NewReader(fixture(t, "opus-celt10-fox.opus")))
	td.CmpNoError(t, err)
	td.Cmp(t, pre, 120)
	td.Cmp(t, len(got), 404)
	td.Cmp(t, got, td.ArrayEach(td.Smuggle(func(p []byte) byte { return p[0] }, byte(22<<3))))
}
