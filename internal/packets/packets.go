// Package packets reads and writes the codec test vectors' packet files,
// and splits the containers reference encoders write (Ogg Opus, AAC
// ADTS, liblc3's LC3 files) into the codec packets inside them. It parses
// outside input: every function checks each length against what is left
// and returns an error, never panics, on any input.
//
// # The packet file format (.pkt)
//
// A .pkt file is a sequence of records, nothing before, between or after
// them. A record is a 2-byte big-endian payload length n (0..65535)
// followed by n payload bytes: one codec packet or frame, exactly as a
// client sends it in one binary WebSocket message. A zero-length record
// stands for a lost packet (the decoder conceals it). An empty file holds
// no packets. Ending inside a length or a payload is an error.
package packets

import (
	"encoding/binary"
	"fmt"
	"io"
)

// recordHeader is the size of a record's length prefix.
const recordHeader = 2

// MaxPacket is the longest payload a record can hold.
const MaxPacket = 1<<16 - 1

// Parse splits b, a whole .pkt file, into its packets, in order. The
// packets alias b (each capped at its own length, so appending to one
// cannot overwrite the next); a zero-length record yields an empty,
// non-nil packet. An empty b yields no packets and no error. An error
// wraps ErrTruncated, and the packets before the bad record are returned
// with it.
func Parse(b []byte) ([][]byte, error) {
	var pkts [][]byte
	for off := 0; off < len(b); {
		if len(b)-off < recordHeader {
			return pkts, fmt.Errorf("%w: record length at offset %d: %d of 2 bytes", ErrTruncated, off, len(b)-off)
		}
		n := int(binary.BigEndian.Uint16(b[off:]))
		start := off + recordHeader
		if len(b)-start < n {
			return pkts, fmt.Errorf("%w: record at offset %d: %d of %d payload bytes", ErrTruncated, off, len(b)-start, n)
		}
		end := start + n
		pkts = append(pkts, b[start:end:end])
		off = end
	}
	return pkts, nil
}

// Read reads r to io.EOF and parses it as a .pkt file (see Parse); the
// packets do not alias anything the caller holds. It reads the whole
// input into memory, so r should be a file of known, modest size. An
// error from r is returned wrapped.
func Read(r io.Reader) ([][]byte, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("packets: read: %w", err)
	}
	return Parse(b)
}

// Write writes pkts to w as a .pkt file, in one w.Write call; an empty
// packet becomes a zero-length (lost packet) record. A packet longer than
// MaxPacket fails the call with ErrTooLong before anything is written;
// an error from w is returned wrapped.
func Write(w io.Writer, pkts [][]byte) error {
	size := 0
	for i, p := range pkts {
		if len(p) > MaxPacket {
			return fmt.Errorf("%w: packet %d has %d bytes", ErrTooLong, i, len(p))
		}
		size += recordHeader + len(p)
	}
	b := make([]byte, 0, size)
	for _, p := range pkts {
		b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
		b = append(b, p...)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("packets: write: %w", err)
	}
	return nil
}
