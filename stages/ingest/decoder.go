package ingest

import (
	"earshot/internal/clip"

	"encoding/binary"
	"fmt"
	"slices"
)

// A decoder turns a session's binary frames into 16-bit PCM at the
// session's rate. Each session has its own; it is used by one goroutine.
type decoder interface {
	// decode appends the little-endian PCM of frame to dst and returns
	// it. A frame it cannot decode gives an error wrapping ErrBadPacket;
	// concealed is then how many of the samples appended are the
	// decoder's own concealment of the loss (possibly none: the caller
	// fills in silence).
	decode(dst, frame []byte) (out []byte, concealed int, err error)
	// close frees the decoder's resources; it is not used after.
	close()
}

// newDecoder returns the decoder of a packet or sample codec, nil for the
// raw PCM codecs (which Run passes on without decoding). c must have
// passed ParseCodec with rateHz.
func newDecoder(c Codec, rateHz int, opus OpusDecoder) (decoder, error) {
	switch c {
	case CodecPCM8, CodecPCM16:
		return nil, nil
	case CodecMulaw8, CodecMulaw16:
		return mulaw{}, nil
	case CodecOpus, CodecOpusFS320:
		if opus.Resolve() == OpusLibopus {
			return newLibopus(rateHz)
		}
		return newOpus(rateHz)
	case CodecLC3:
		return newLC3(rateHz, 0)
	case CodecLC3FS1030:
		return newLC3(rateHz, lc3FS1030Bytes)
	case CodecAAC:
		return newAAC(rateHz)
	default:
		return nil, &FormatError{fmt.Sprintf(`codec "%s" is not supported`, clip.Printable(string(c), nameBytes))}
	}
}

// appendInt16 appends pcm to dst as little-endian bytes.
func appendInt16(dst []byte, pcm []int16) []byte {
	dst = slices.Grow(dst, 2*len(pcm))
	for _, v := range pcm {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(v))
	}
	return dst
}

// appendSilence appends n samples of silence to dst.
func appendSilence(dst []byte, n int) []byte {
	dst = slices.Grow(dst, 2*n)
	end := len(dst) + 2*n
	clear(dst[len(dst):end])
	return dst[:end]
}
