// Package rawws speaks the WebSocket wire format by hand, for tests and
// the hostile suite: clients that break the protocol (unmasked frames),
// stop reading, or never finish a handshake, which a WebSocket library
// will not do on purpose.
//
// Nothing here is safe for concurrent use on one connection.
package rawws

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// Opcodes of RFC 6455 frames.
const (
	OpText   = 0x1
	OpBinary = 0x2
	OpClose  = 0x8
	OpPing   = 0x9
	OpPong   = 0xA
)

// ErrHandshake means the server did not switch protocols; the error's
// text holds its status line.
var ErrHandshake = errors.New("rawws: handshake refused")

// Conn is a client connection after its handshake. Frames are read
// through its buffered reader, which may hold bytes read past the
// handshake.
type Conn struct {
	net.Conn
	br *bufio.Reader
}

// Handshake sends an upgrade request for path (with its query) to c with
// the extra header, and reads the answer. It returns ErrHandshake
// (wrapped, with the status line) unless the answer is 101.
func Handshake(c net.Conn, host, path string, header http.Header) (*Conn, error) {
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", path, host)
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", base64.StdEncoding.EncodeToString(key))
	for k, vs := range header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		return nil, err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return nil, fmt.Errorf("%w: %s", ErrHandshake, resp.Status)
	}
	return &Conn{Conn: c, br: br}, nil
}

// WriteFrame writes one final frame of opcode with payload, masked as a
// client must unless masked is false.
func (c *Conn) WriteFrame(opcode byte, payload []byte, masked bool) error {
	hdr := []byte{0x80 | opcode, 0}
	n := len(payload)
	switch {
	case n < 126:
		hdr[1] = byte(n)
	case n < 1<<16:
		hdr[1] = 126
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr[1] = 127
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	body := payload
	if masked {
		hdr[1] |= 0x80
		var key [4]byte
		_, _ = rand.Read(key[:])
		hdr = append(hdr, key[:]...)
		body = make([]byte, n)
		for i, p := range payload {
			body[i] = p ^ key[i%4]
		}
	}
	_, err := c.Write(append(hdr, body...))
	return err
}

// Frame is one frame read from the server.
type Frame struct {
	Opcode  byte
	Payload []byte
}

// CloseCode is a close frame's status code, or -1 for another frame or
// a close frame without one.
func (f Frame) CloseCode() int {
	if f.Opcode != OpClose || len(f.Payload) < 2 {
		return -1
	}
	return int(binary.BigEndian.Uint16(f.Payload))
}

// ReadFrame reads one frame (servers do not mask; a masked frame is
// unmasked). Fragmented messages come frame by frame.
func (c *Conn) ReadFrame() (Frame, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return Frame{}, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return Frame{}, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return Frame{}, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > 1<<24 {
		return Frame{}, fmt.Errorf("rawws: frame of %d bytes", n)
	}
	var key [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(c.br, key[:]); err != nil {
			return Frame{}, err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(c.br, p); err != nil {
		return Frame{}, err
	}
	if masked {
		for i := range p {
			p[i] ^= key[i%4]
		}
	}
	return Frame{Opcode: h[0] & 0x0f, Payload: p}, nil
}

// CloseCode reads frames until a close frame and returns its code (-1 if
// it had none), or the read error.
func (c *Conn) CloseCode() (int, error) {
	for {
		f, err := c.ReadFrame()
		if err != nil {
			return 0, err
		}
		if f.Opcode == OpClose {
			return f.CloseCode(), nil
		}
	}
}
