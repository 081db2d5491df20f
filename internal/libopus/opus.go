//go:build libcodecs && cgo

package libopus

/*
// Linked statically (Debian's libopus-dev ships libopus.a), so that the
// binary needs no libopus at run time.
#cgo CFLAGS: -I/usr/include/opus
#cgo LDFLAGS: -Wl,-Bstatic -lopus -Wl,-Bdynamic -lm
#cgo noescape opus_encode
#cgo nocallback opus_encode
#cgo noescape opus_decode
#cgo nocallback opus_decode
#if !__has_include(<opus.h>)
#error "earshot: the libcodecs build tag needs Debian's packages: apt-get install -y --no-install-recommends gcc libc6-dev libopus-dev liblc3-dev libavcodec-dev (or run scripts/setup-codecs.sh as root)"
#endif
#include <opus.h>

// opus_encoder_ctl is variadic, which cgo cannot call: one wrapper per
// setting.
static int es_set_bitrate(OpusEncoder *st, opus_int32 v) { return opus_encoder_ctl(st, OPUS_SET_BITRATE(v)); }
static int es_set_complexity(OpusEncoder *st, opus_int32 v) { return opus_encoder_ctl(st, OPUS_SET_COMPLEXITY(v)); }
static int es_set_vbr(OpusEncoder *st, opus_int32 v) { return opus_encoder_ctl(st, OPUS_SET_VBR(v)); }
static int es_set_bandwidth(OpusEncoder *st, opus_int32 v) { return opus_encoder_ctl(st, OPUS_SET_BANDWIDTH(v)); }
static int es_set_signal(OpusEncoder *st, opus_int32 v) { return opus_encoder_ctl(st, OPUS_SET_SIGNAL(v)); }
*/
import "C"

import (
	"fmt"
	"math"
	"runtime"
	"unsafe"
)

// Available reports whether the codec was compiled in (build tag
// libcodecs, with cgo). In this build it was.
const Available = true

// Encoder encodes mono 16-bit PCM into Opus packets. Not safe for
// concurrent use.
type Encoder struct {
	st      *C.OpusEncoder
	cleanup runtime.Cleanup
}

// NewEncoder returns a mono encoder of PCM at rateHz (8000, 12000, 16000,
// 24000 or 48000) tuned for app, with libopus's defaults otherwise
// (bitrate Auto, VBR on, complexity 9 or 10). Close it when done.
func NewEncoder(rateHz int, app Application) (*Encoder, error) {
	var code C.int
	st := C.opus_encoder_create(C.opus_int32(clamp32(rateHz)), 1, C.int(app), &code)
	if st == nil || code != C.OPUS_OK {
		return nil, fmt.Errorf("libopus: new encoder (%d Hz, application %d): %s", rateHz, app, strerror(code))
	}
	e := &Encoder{st: st}
	e.cleanup = runtime.AddCleanup(e, func(st *C.OpusEncoder) { C.opus_encoder_destroy(st) }, st)
	return e, nil
}

// SetBitrate sets the target bitrate in bits per second (500 to 512000,
// Auto or BitrateMax). With VBR on it is an average.
func (e *Encoder) SetBitrate(bps int) error {
	return e.set("bitrate", bps, func(st *C.OpusEncoder, v C.opus_int32) C.int { return C.es_set_bitrate(st, v) })
}

// SetComplexity sets the computational complexity, 0 (fastest) to 10
// (best quality).
func (e *Encoder) SetComplexity(n int) error {
	return e.set("complexity", n, func(st *C.OpusEncoder, v C.opus_int32) C.int { return C.es_set_complexity(st, v) })
}

// SetVBR turns variable bitrate on (libopus's default) or off (constant
// bitrate: every packet of a frame duration has the same size).
func (e *Encoder) SetVBR(on bool) error {
	v := 0
	if on {
		v = 1
	}
	return e.set("vbr", v, func(st *C.OpusEncoder, v C.opus_int32) C.int { return C.es_set_vbr(st, v) })
}

// SetBandwidth forces the coded passband: one of the Bandwidth constants,
// or Auto (libopus's default) to let the bitrate decide.
func (e *Encoder) SetBandwidth(bw int) error {
	return e.set("bandwidth", bw, func(st *C.OpusEncoder, v C.opus_int32) C.int { return C.es_set_bandwidth(st, v) })
}

// SetSignal hints at the content: SignalVoice, SignalMusic or Auto
// (libopus's default, which estimates it).
func (e *Encoder) SetSignal(sig int) error {
	return e.set("signal", sig, func(st *C.OpusEncoder, v C.opus_int32) C.int { return C.es_set_signal(st, v) })
}

func (e *Encoder) set(name string, v int, ctl func(*C.OpusEncoder, C.opus_int32) C.int) error {
	if e.st == nil {
		return fmt.Errorf("libopus: set %s: %w", name, ErrClosed)
	}
	code := ctl(e.st, C.opus_int32(clamp32(v)))
	runtime.KeepAlive(e)
	if code != C.OPUS_OK {
		return fmt.Errorf("libopus: set %s to %d: %s", name, v, strerror(code))
	}
	return nil
}

// Encode encodes one frame, pcm (2.5, 5, 10, 20, 40 or 60 ms of samples
// at the encoder's rate), into dst and returns the packet's size in
// bytes, dst[:n]. len(dst) caps the packet's size, and so the bitrate:
// 4000 bytes (libopus's advice) never constrains it, 1275 bytes cover one
// frame of up to 20 ms. A frame of another length, or a dst too small to
// hold even a minimal packet, gives an error and writes nothing useful.
func (e *Encoder) Encode(pcm []int16, dst []byte) (int, error) {
	if e.st == nil {
		return 0, fmt.Errorf("libopus: encode: %w", ErrClosed)
	}
	if len(pcm) == 0 || len(dst) == 0 {
		return 0, fmt.Errorf("libopus: encode %d samples into %d bytes: empty buffer", len(pcm), len(dst))
	}
	n := C.opus_encode(e.st, (*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(clamp32(len(pcm))),
		(*C.uchar)(unsafe.Pointer(&dst[0])), C.opus_int32(clamp32(len(dst))))
	runtime.KeepAlive(e)
	if n < 0 {
		return 0, fmt.Errorf("libopus: encode %d samples: %s", len(pcm), strerror(n))
	}
	return int(n), nil
}

// Close frees the encoder's C memory. Later calls do nothing.
func (e *Encoder) Close() {
	if e.st == nil {
		return
	}
	e.cleanup.Stop()
	C.opus_encoder_destroy(e.st)
	e.st = nil
}

// Decoder decodes Opus packets into mono 16-bit PCM (a stereo stream is
// downmixed by libopus). Not safe for concurrent use.
type Decoder struct {
	st      *C.OpusDecoder
	cleanup runtime.Cleanup
}

// NewDecoder returns a mono decoder with output at rateHz (8000, 12000,
// 16000, 24000 or 48000). Close it when done.
func NewDecoder(rateHz int) (*Decoder, error) {
	var code C.int
	st := C.opus_decoder_create(C.opus_int32(clamp32(rateHz)), 1, &code)
	if st == nil || code != C.OPUS_OK {
		return nil, fmt.Errorf("libopus: new decoder (%d Hz): %s", rateHz, strerror(code))
	}
	d := &Decoder{st: st}
	d.cleanup = runtime.AddCleanup(d, func(st *C.OpusDecoder) { C.opus_decoder_destroy(st) }, st)
	return d, nil
}

// Decode decodes the packet pkt into pcm and returns the number of
// samples written, pcm[:n]. pcm must have room for the packet's whole
// duration (120 ms, 5760 samples at 48 kHz, always suffices), else the
// error is libopus's "buffer too small". A nil or empty pkt is a lost
// packet: Decode then conceals len(pcm) samples (a multiple of 2.5 ms) from
// what it decoded before. A packet libopus rejects gives an error wrapping
// ErrBadPacket; the decoder stays usable for the next packets.
func (d *Decoder) Decode(pkt []byte, pcm []int16) (int, error) {
	if d.st == nil {
		return 0, fmt.Errorf("libopus: decode: %w", ErrClosed)
	}
	if len(pcm) == 0 {
		return 0, fmt.Errorf("libopus: decode %d bytes: empty pcm buffer", len(pkt))
	}
	var data *C.uchar
	if len(pkt) > 0 {
		data = (*C.uchar)(unsafe.Pointer(&pkt[0]))
	}
	n := C.opus_decode(d.st, data, C.opus_int32(clamp32(len(pkt))),
		(*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(clamp32(len(pcm))), 0)
	runtime.KeepAlive(d)
	switch {
	case n == C.OPUS_INVALID_PACKET:
		return 0, fmt.Errorf("libopus: decode %d bytes: %w: %s", len(pkt), ErrBadPacket, strerror(n))
	case n < 0:
		return 0, fmt.Errorf("libopus: decode %d bytes into %d samples: %s", len(pkt), len(pcm), strerror(n))
	}
	return int(n), nil
}

// Close frees the decoder's C memory. Later calls do nothing.
func (d *Decoder) Close() {
	if d.st == nil {
		return
	}
	d.cleanup.Stop()
	C.opus_decoder_destroy(d.st)
	d.st = nil
}

// strerror is libopus's description of an error code.
func strerror(code C.int) string {
	return C.GoString(C.opus_strerror(code))
}

// clamp32 bounds n to the range of a C int (32 bits here).
func clamp32(n int) int {
	return max(math.MinInt32, min(n, math.MaxInt32))
}
