//go:build libcodecs && cgo

package liblc3

/*
// Linked dynamically: Debian's liblc3-dev ships no liblc3.a.
#cgo LDFLAGS: -llc3
#cgo noescape lc3_encode
#cgo nocallback lc3_encode
#cgo noescape lc3_decode
#cgo nocallback lc3_decode
#if !__has_include(<lc3.h>)
#error "earshot: the libcodecs build tag needs Debian's packages: apt-get install -y --no-install-recommends gcc libc6-dev libopus-dev liblc3-dev libavcodec-dev (or run scripts/setup-codecs.sh as root)"
#endif
#include <stdlib.h>
#include <lc3.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Available reports whether the codec was compiled in (build tag
// libcodecs, with cgo). In this build it was.
const Available = true

// Frame sizes liblc3 accepts, in bytes.
const (
	minFrameBytes = C.LC3_MIN_FRAME_BYTES
	maxFrameBytes = C.LC3_MAX_FRAME_BYTES
)

// Encoder encodes mono 16-bit PCM into LC3 frames. Not safe for
// concurrent use.
type Encoder struct {
	mem     unsafe.Pointer // C memory holding the encoder, or nil once closed
	enc     C.lc3_encoder_t
	samples int
	cleanup runtime.Cleanup
}

// NewEncoder returns a mono encoder of frameUs-long frames (7500 or
// 10000) of PCM at rateHz (8000, 16000, 24000, 32000 or 48000). Close it
// when done.
func NewEncoder(rateHz, frameUs int) (*Encoder, error) {
	if !valid(rateHz, frameUs) {
		return nil, fmt.Errorf("liblc3: new encoder: unsupported %d Hz, %d µs frames", rateHz, frameUs)
	}
	dt, sr := C.int(frameUs), C.int(rateHz)
	size := C.lc3_encoder_size(dt, sr)
	if size == 0 {
		return nil, fmt.Errorf("liblc3: new encoder: liblc3 rejects %d Hz, %d µs frames", rateHz, frameUs)
	}
	mem := C.malloc(C.size_t(size))
	if mem == nil {
		return nil, fmt.Errorf("liblc3: new encoder: out of memory (%d bytes)", size)
	}
	enc := C.lc3_setup_encoder(dt, sr, 0, mem)
	if enc == nil {
		C.free(mem)
		return nil, fmt.Errorf("liblc3: new encoder: setup failed (%d Hz, %d µs)", rateHz, frameUs)
	}
	e := &Encoder{mem: mem, enc: enc, samples: int(C.lc3_frame_samples(dt, sr))}
	e.cleanup = runtime.AddCleanup(e, func(mem unsafe.Pointer) { C.free(mem) }, mem)
	return e, nil
}

// FrameSamples is the number of samples of one frame.
func (e *Encoder) FrameSamples() int { return e.samples }

// Encode encodes pcm, exactly FrameSamples samples, into one frame that
// fills dst: len(dst), 20 to 400 bytes, is the frame's size and so sets
// the bitrate (len(dst)·8 bits per frame duration).
func (e *Encoder) Encode(pcm []int16, dst []byte) error {
	switch {
	case e.mem == nil:
		return fmt.Errorf("liblc3: encode: %w", ErrClosed)
	case len(pcm) != e.samples:
		return fmt.Errorf("liblc3: encode: %d samples, want %d", len(pcm), e.samples)
	case len(dst) < minFrameBytes || len(dst) > maxFrameBytes:
		return fmt.Errorf("liblc3: encode: frame of %d bytes, want %d to %d", len(dst), minFrameBytes, maxFrameBytes)
	}
	ret := C.lc3_encode(e.enc, C.LC3_PCM_FORMAT_S16, unsafe.Pointer(&pcm[0]), 1,
		C.int(len(dst)), unsafe.Pointer(&dst[0]))
	runtime.KeepAlive(e)
	if ret != 0 {
		return fmt.Errorf("liblc3: encode: lc3_encode returned %d", ret)
	}
	return nil
}

// Close frees the encoder's C memory. Later calls do nothing.
func (e *Encoder) Close() {
	if e.mem == nil {
		return
	}
	e.cleanup.Stop()
	C.free(e.mem)
	e.mem, e.enc = nil, nil
}

// Decoder decodes LC3 frames into mono 16-bit PCM. Not safe for
// concurrent use.
type Decoder struct {
	mem     unsafe.Pointer // C memory holding the decoder, or nil once closed
	dec     C.lc3_decoder_t
	samples int
	cleanup runtime.Cleanup
}

// NewDecoder returns a mono decoder of frameUs-long frames (7500 or
// 10000) with output at rateHz (8000, 16000, 24000, 32000 or 48000): the
// encoder's parameters, which LC3 frames do not carry. Close it when done.
func NewDecoder(rateHz, frameUs int) (*Decoder, error) {
	if !valid(rateHz, frameUs) {
		return nil, fmt.Errorf("liblc3: new decoder: unsupported %d Hz, %d µs frames", rateHz, frameUs)
	}
	dt, sr := C.int(frameUs), C.int(rateHz)
	size := C.lc3_decoder_size(dt, sr)
	if size == 0 {
		return nil, fmt.Errorf("liblc3: new decoder: liblc3 rejects %d Hz, %d µs frames", rateHz, frameUs)
	}
	mem := C.malloc(C.size_t(size))
	if mem == nil {
		return nil, fmt.Errorf("liblc3: new decoder: out of memory (%d bytes)", size)
	}
	dec := C.lc3_setup_decoder(dt, sr, 0, mem)
	if dec == nil {
		C.free(mem)
		return nil, fmt.Errorf("liblc3: new decoder: setup failed (%d Hz, %d µs)", rateHz, frameUs)
	}
	d := &Decoder{mem: mem, dec: dec, samples: int(C.lc3_frame_samples(dt, sr))}
	d.cleanup = runtime.AddCleanup(d, func(mem unsafe.Pointer) { C.free(mem) }, mem)
	return d, nil
}

// FrameSamples is the number of samples of one frame.
func (d *Decoder) FrameSamples() int { return d.samples }

// Decode decodes one frame into pcm[:FrameSamples()] (pcm may be longer;
// the rest is left alone). A nil or empty frame is a lost one: Decode
// conceals it from the audio before (packet loss concealment) and
// reports concealed. A frame whose bitstream liblc3 finds invalid is
// concealed too, with an error wrapping ErrBadFrame. A frame of a size
// outside 20 to 400 bytes gives an error wrapping ErrBadFrame and leaves
// pcm alone: call Decode(nil, pcm) to conceal it. The decoder stays
// usable after any of these.
func (d *Decoder) Decode(frame []byte, pcm []int16) (concealed bool, err error) {
	switch {
	case d.mem == nil:
		return false, fmt.Errorf("liblc3: decode: %w", ErrClosed)
	case len(pcm) < d.samples:
		return false, fmt.Errorf("liblc3: decode: room for %d samples, want %d", len(pcm), d.samples)
	case len(frame) > 0 && (len(frame) < minFrameBytes || len(frame) > maxFrameBytes):
		return false, fmt.Errorf("liblc3: decode: %w: %d bytes, want %d to %d", ErrBadFrame, len(frame), minFrameBytes, maxFrameBytes)
	}
	var in unsafe.Pointer
	if len(frame) > 0 {
		in = unsafe.Pointer(&frame[0])
	}
	ret := C.lc3_decode(d.dec, in, C.int(len(frame)), C.LC3_PCM_FORMAT_S16, unsafe.Pointer(&pcm[0]), 1)
	runtime.KeepAlive(d)
	switch {
	case ret == 1 && in != nil:
		return true, fmt.Errorf("liblc3: decode: %w: invalid bitstream (%d bytes), concealed", ErrBadFrame, len(frame))
	case ret == 1:
		return true, nil
	case ret != 0:
		return false, fmt.Errorf("liblc3: decode: lc3_decode returned %d", ret)
	}
	return false, nil
}

// Close frees the decoder's C memory. Later calls do nothing.
func (d *Decoder) Close() {
	if d.mem == nil {
		return
	}
	d.cleanup.Stop()
	C.free(d.mem)
	d.mem, d.dec = nil, nil
}

// valid reports whether LC3 supports the rate and the frame duration.
func valid(rateHz, frameUs int) bool {
	switch rateHz {
	case 8000, 16000, 24000, 32000, 48000:
	default:
		return false
	}
	return frameUs == 7500 || frameUs == 10000
}
