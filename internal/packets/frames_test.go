package packets_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/packets"
)

// lc3File returns an LC3 file with header fields as elc3 writes them
// (rate/100, bitrate/100, channels, duration/10us, samples), headerSize
// bytes of header (extra bytes 0xee) and the frames, each after its
// 16-bit byte count.
func lc3File(headerSize, rate, bitrate, channels, frameUs, samples int, frames ...[]byte) []byte {
	var b []byte
	for _, v := range []int{0xcc1c, headerSize, rate / 100, bitrate / 100, channels, frameUs / 10, 0, samples & 0xffff, samples >> 16} {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	for len(b) < headerSize {
		b = append(b, 0xee)
	}
	for _, f := range frames {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	return b
}

func TestParseLC3File(t *testing.T) {
	f1, f2 := make([]byte, 30), make([]byte, 30)
	f2[0] = 9
	h, frames, err := packets.ParseLC3File(lc3File(18, 16000, 24000, 1, 10000, 70000, f1, f2))
	td.CmpNoError(t, err)
	td.Cmp(t, h, packets.LC3Header{
		HeaderSize: 18, SampleRate: 16000, Bitrate: 24000, Channels: 1,
		FrameDuration: 10 * time.Millisecond, Samples: 70000,
	})
	td.Cmp(t, frames, [][]byte{f1, f2})
	td.Cmp(t, cap(frames[0]), 30, "capped")

	// A longer header is skipped; a stereo record holds both frames.
	stereo := make([]byte, 80)
	h, frames, err = packets.ParseLC3File(lc3File(20, 48000, 96000, 2, 7500, 360, stereo))
	td.CmpNoError(t, err)
	td.Cmp(t, h, td.SStruct(packets.LC3Header{
		HeaderSize: 20, SampleRate: 48000, Bitrate: 96000, Channels: 2,
		FrameDuration: 7500 * time.Microsecond, Samples: 360,
	}))
	td.Cmp(t, frames, [][]byte{stereo})

	_, frames, err = packets.ParseLC3File(lc3File(18, 16000, 24000, 1, 10000, 0))
	td.CmpNoError(t, err)
	td.CmpNil(t, frames, "a header only: no frames")
}

func TestParseLC3FileErrors(t *testing.T) {
	frame := make([]byte, 30)
	good := lc3File(18, 16000, 24000, 1, 10000, 160, frame)
	badID := append([]byte{0x1c, 0xcd}, good[2:]...)
	for _, tc := range []struct {
		name       string
		in         []byte
		truncated  bool
		wantFrames int
	}{
		{"empty", nil, true, 0},
		{"short header", good[:17], true, 0},
		{"bad file id", badID, false, 0},
		{"header size 16", lc3File(16, 16000, 24000, 1, 10000, 160, frame), false, 0},
		{"header past the end", lc3File(40, 16000, 24000, 1, 10000, 0)[:30], true, 0},
		{"no channels", lc3File(18, 16000, 24000, 0, 10000, 160, frame), false, 0},
		{"empty frame", lc3File(18, 16000, 24000, 1, 10000, 160, frame, nil), false, 1},
		{"odd stereo frame", lc3File(18, 16000, 24000, 2, 10000, 160, make([]byte, 31)), false, 0},
		{"frame over 400 bytes", lc3File(18, 16000, 24000, 1, 10000, 160, frame, make([]byte, 401)), false, 1},
		{"half a byte count", append(append([]byte(nil), good...), 30), true, 1},
		{"cut frame", append(append([]byte(nil), good...), 30, 0, 1, 2), true, 1},
	} {
		_, frames, err := packets.ParseLC3File(tc.in)
		td.CmpErrorIs(t, err, packets.ErrBadLC3, tc.name)
		td.Cmp(t, errors.Is(err, packets.ErrTruncated), tc.truncated, "%s: truncated", tc.name)
		td.Cmp(t, len(frames), tc.wantFrames, "%s: the frames before", tc.name)
	}
}

// TestParseLC3FileElc3 parses what elc3 wrote for the fox fixture: 16
// kHz, 24 kbit/s, 10 ms, and the source's 64461 samples plus the 40
// samples of codec delay, in 404 frames of 30 bytes.
func TestParseLC3FileElc3(t *testing.T) {
	h, frames, err := packets.ParseLC3File(fixture(t, "lc3-fs1030-fox.lc3"))
	td.CmpNoError(t, err)
	td.Cmp(t, h, packets.LC3Header{
		HeaderSize: 18, SampleRate: 16000, Bitrate: 24000, Channels: 1,
		FrameDuration: 10 * time.Millisecond, Samples: 64461,
	})
	td.Cmp(t, len(frames), (64461+40+159)/160)
	td.Cmp(t, frames, td.ArrayEach(td.Len(30)))
}

// adtsFrame returns an ADTS frame of n bytes in all (header included):
// MPEG-4 AAC-LC, 16 kHz, mono, with a CRC (9-byte header) when crc is
// set. The payload bytes are tag, tag+1, ...
func adtsFrame(n int, crc bool, tag byte) []byte {
	b := make([]byte, n)
	b[0] = 0xff
	b[1] = 0xf1 // MPEG-4, layer 0, protection absent
	if crc {
		b[1] = 0xf0
	}
	b[2] = 1<<6 | 8<<2 // AAC-LC (profile 1), sampling index 8 (16 kHz)
	b[3] = 1<<6 | byte(n>>11)&0x03
	b[4] = byte(n >> 3)
	b[5] = byte(n&0x07)<<5 | 0x1f
	b[6] = 0xfc
	hdr := 7
	if crc {
		hdr = 9
	}
	for i := hdr; i < n; i++ {
		b[i] = tag + byte(i-hdr)
	}
	return b
}

func TestSplitADTS(t *testing.T) {
	f1, f2, f3 := adtsFrame(8, false, 1), adtsFrame(300, true, 2), adtsFrame(8191, false, 3)
	stream := bytes.Join([][]byte{f1, f2, f3}, nil)
	got, err := packets.SplitADTS(stream)
	td.CmpNoError(t, err)
	td.Cmp(t, got, [][]byte{f1, f2, f3})
	td.Cmp(t, cap(got[0]), len(f1), "capped")

	got, err = packets.SplitADTS(nil)
	td.CmpNoError(t, err)
	td.CmpNil(t, got)

	mpeg2 := adtsFrame(20, false, 4)
	mpeg2[1] |= 0x08 // ID 1: MPEG-2 AAC, still ADTS
	got, err = packets.SplitADTS(mpeg2)
	td.CmpNoError(t, err)
	td.Cmp(t, got, [][]byte{mpeg2})
}

func TestSplitADTSErrors(t *testing.T) {
	good := adtsFrame(10, false, 1)
	for _, tc := range []struct {
		name      string
		tail      []byte
		truncated bool
	}{
		{"no syncword", []byte{0xff, 0x01, 0, 0, 0, 0, 0, 0}, false},
		{"layer 1", append([]byte{0xff, 0xf3}, adtsFrame(10, false, 0)[2:]...), false},
		{"stray byte", []byte{0x00}, false},
		{"half a syncword", []byte{0xff, 0x00}, false},
		{"length under the header", adtsFrame(7, false, 0), false},
		{"length under the CRC header", adtsFrame(9, true, 0), false},
		{"cut header", adtsFrame(10, false, 0)[:5], true},
		{"cut frame", adtsFrame(100, false, 0)[:99], true},
		{"cut CRC frame", adtsFrame(100, true, 0)[:50], true},
	} {
		got, err := packets.SplitADTS(append(append([]byte(nil), good...), tc.tail...))
		td.CmpErrorIs(t, err, packets.ErrBadADTS, tc.name)
		if tc.truncated {
			td.CmpErrorIs(t, err, packets.ErrTruncated, tc.name)
		} else {
			td.CmpFalse(t, errors.Is(err, packets.ErrTruncated), "%s: not truncation", tc.name)
		}
		td.Cmp(t, got, [][]byte{good}, "%s: the frames before", tc.name)
	}
}

// TestSplitADTSFFmpeg splits FFmpeg's own ADTS output: every frame has
// the 7-byte header FFmpeg writes (no CRC), AAC-LC at 16 kHz mono.
func TestSplitADTSFFmpeg(t *testing.T) {
	frames, err := packets.SplitADTS(fixture(t, "aac-fox.aac"))
	td.CmpNoError(t, err)
	td.Cmp(t, len(frames), 64)
	td.Cmp(t, frames, td.ArrayEach(td.All(
		td.Len(td.Gt(7)),
		td.Smuggle(func(f []byte) []byte { return f[:3] }, []byte{0xff, 0xf1, 1<<6 | 8<<2}),
	)))
}
