package ingest

import (
	"errors"
	"fmt"

	"earshot/internal/libopus"
)

// OpusDecoder names an Opus decoder implementation.
type OpusDecoder string

// The Opus decoders. OpusPion (github.com/pion/opus, pure Go) is in every
// build and the default of a zero Config; OpusLibopus is libopus, the
// reference decoder, through cgo in builds with -tags libcodecs: about
// half pion's CPU per packet (bench/README.md), and it conceals a bad
// packet with its own packet-loss concealment instead of silence.
// OpusAuto is libopus where the build has it and pion elsewhere (serve's
// default).
const (
	OpusPion    OpusDecoder = "pion"
	OpusLibopus OpusDecoder = "libopus"
	OpusAuto    OpusDecoder = "auto"
)

// Resolve returns the decoder d stands for in this build: OpusAuto is
// OpusLibopus where the build has libopus and OpusPion elsewhere, ""
// is OpusPion; any other name is returned as it is.
func (d OpusDecoder) Resolve() OpusDecoder {
	switch d {
	case "":
		return OpusPion
	case OpusAuto:
		if libopus.Available {
			return OpusLibopus
		}
		return OpusPion
	}
	return d
}

// ErrNoOpusDecoder means the Opus decoder named is unknown or not in
// this build.
var ErrNoOpusDecoder = errors.New("no such opus decoder")

// CheckOpusDecoder reports whether d names a decoder this build has
// ("" is OpusPion, OpusAuto is always there).
func CheckOpusDecoder(d OpusDecoder) error {
	switch d.Resolve() {
	case OpusPion:
		return nil
	case OpusLibopus:
		if !libopus.Available {
			return fmt.Errorf("%w: libopus needs a build with -tags libcodecs", ErrNoOpusDecoder)
		}
		return nil
	default:
		return fmt.Errorf("%w: %q (auto, pion or libopus)", ErrNoOpusDecoder, string(d))
	}
}

// libopusDecoder decodes Opus with libopus; a bad packet is concealed by
// libopus's packet-loss concealment, as long as the last good packet.
type libopusDecoder struct {
	dec     *libopus.Decoder
	scratch []int16
	last    int // samples of the last good packet
}

func newLibopus(rateHz int) (*libopusDecoder, error) {
	d, err := libopus.NewDecoder(rateHz)
	if err != nil {
		return nil, &FormatError{fmt.Sprintf("codec opus: %v", err)}
	}
	return &libopusDecoder{dec: d, scratch: make([]int16, maxOpusSamples), last: rateHz / 100}, nil
}

func (o *libopusDecoder) decode(dst, frame []byte) ([]byte, int, error) {
	n, err := o.dec.Decode(frame, o.scratch)
	if err == nil {
		o.last = n
		return appendInt16(dst, o.scratch[:n]), 0, nil
	}
	bad := fmt.Errorf("%w: opus: %w", ErrBadPacket, err)
	n, perr := o.dec.Decode(nil, o.scratch[:o.last])
	if perr != nil {
		return dst, 0, bad
	}
	return appendInt16(dst, o.scratch[:n]), n, bad
}

func (o *libopusDecoder) close() { o.dec.Close() }
