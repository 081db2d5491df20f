//go:build libcodecs && cgo

package libav

/*
// Linked dynamically: libavcodec.a would pull in the static archives of
// every library FFmpeg's codecs use (x264, dav1d, opus, vpx, ...).
#cgo LDFLAGS: -lavcodec -lavutil -lm
#cgo noescape es_aac_feed
#cgo nocallback es_aac_feed
#cgo noescape es_aac_convert
#cgo nocallback es_aac_convert
#cgo noescape es_aac_receive
#cgo nocallback es_aac_receive
#if !__has_include(<libavcodec/avcodec.h>) || !__has_include(<libavutil/log.h>)
#error "earshot: the libcodecs build tag needs Debian's packages: apt-get install -y --no-install-recommends gcc libc6-dev libopus-dev liblc3-dev libavcodec-dev (or run scripts/setup-codecs.sh as root)"
#endif
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libavcodec/avcodec.h>
#include <libavutil/log.h>

// The last error FFmpeg logged on this thread, during the current call.
static __thread char es_log_msg[256];

// es_log replaces FFmpeg's logger, which writes to stderr: errors are
// kept for the caller, the rest is dropped.
static void es_log(void *avcl, int level, const char *fmt, va_list vl) {
	size_t n;
	(void)avcl;
	if (level <= AV_LOG_ERROR) {
		vsnprintf(es_log_msg, sizeof es_log_msg, fmt, vl);
		for (n = strlen(es_log_msg); n > 0 && (es_log_msg[n-1] == '\n' || es_log_msg[n-1] == ' '); n--) {
			es_log_msg[n-1] = 0;
		}
	}
}

static void es_setup_logging(void) { av_log_set_callback(es_log); }

typedef struct {
	AVCodecContext *ctx;
	AVCodecParserContext *parser;
	AVPacket *pkt;
	AVFrame *frame;
	char msg[256]; // why the last call failed
} es_aac;

static void es_aac_free(es_aac *s) {
	av_parser_close(s->parser);
	avcodec_free_context(&s->ctx);
	av_packet_free(&s->pkt);
	av_frame_free(&s->frame);
	free(s);
}

// es_aac_new opens FFmpeg's AAC decoder and ADTS parser; NULL on failure,
// with the reason in msg.
static es_aac *es_aac_new(char *msg, size_t len) {
	const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_AAC);
	es_aac *s = calloc(1, sizeof *s);
	int ret;
	if (codec == NULL || s == NULL) {
		snprintf(msg, len, codec == NULL ? "no aac decoder in libavcodec" : "out of memory");
		free(s);
		return NULL;
	}
	s->ctx = avcodec_alloc_context3(codec);
	s->parser = av_parser_init(AV_CODEC_ID_AAC);
	s->pkt = av_packet_alloc();
	s->frame = av_frame_alloc();
	if (s->ctx == NULL || s->parser == NULL || s->pkt == NULL || s->frame == NULL) {
		snprintf(msg, len, "out of memory");
		es_aac_free(s);
		return NULL;
	}
	if ((ret = avcodec_open2(s->ctx, codec, NULL)) < 0) {
		av_strerror(ret, msg, len);
		es_aac_free(s);
		return NULL;
	}
	return s;
}

// es_fail records why ret (an AVERROR) happened, and returns it.
static int es_fail(es_aac *s, int ret) {
	if (es_log_msg[0] != 0) {
		snprintf(s->msg, sizeof s->msg, "%s", es_log_msg);
	} else {
		av_strerror(ret, s->msg, sizeof s->msg);
	}
	return ret;
}

// es_aac_feed parses buf[:len] up to the end of the next ADTS frame
// (len 0 flushes the parser) and sends that frame to the decoder. It sets
// *used to the bytes consumed and returns 1 if a frame was sent, 0 if the
// parser needs more bytes, or the decoder's AVERROR (why in s->msg).
static int es_aac_feed(es_aac *s, const uint8_t *buf, int len, int *used) {
	uint8_t *out = NULL;
	int size = 0, ret;
	es_log_msg[0] = 0;
	*used = av_parser_parse2(s->parser, s->ctx, &out, &size, buf, len, AV_NOPTS_VALUE, AV_NOPTS_VALUE, 0);
	if (*used < 0) {
		return es_fail(s, *used);
	}
	if (size == 0) {
		return 0;
	}
	s->pkt->data = out;
	s->pkt->size = size;
	ret = avcodec_send_packet(s->ctx, s->pkt); // copies out, which may point into buf
	s->pkt->data = NULL;
	s->pkt->size = 0;
	return ret < 0 ? es_fail(s, ret) : 1;
}

// es_aac_receive takes the next decoded frame: it returns its samples per
// channel (its rate in *rate), 0 if there is none, or an AVERROR.
static int es_aac_receive(es_aac *s, int *rate) {
	int ret;
	es_log_msg[0] = 0;
	do { // skipping empty frames
		av_frame_unref(s->frame);
		ret = avcodec_receive_frame(s->ctx, s->frame);
	} while (ret == 0 && s->frame->nb_samples <= 0);
	if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) {
		return 0;
	}
	if (ret < 0) {
		return es_fail(s, ret);
	}
	*rate = s->frame->sample_rate;
	return s->frame->nb_samples;
}

// es_sample is sample i of channel ch of f, full scale ±1.
static inline float es_sample(const AVFrame *f, int nch, int ch, int i) {
	uint8_t *const *d = f->extended_data;
	switch (f->format) {
	case AV_SAMPLE_FMT_FLTP: return ((const float *)d[ch])[i];
	case AV_SAMPLE_FMT_FLT:  return ((const float *)d[0])[i*nch + ch];
	case AV_SAMPLE_FMT_DBLP: return (float)((const double *)d[ch])[i];
	case AV_SAMPLE_FMT_DBL:  return (float)((const double *)d[0])[i*nch + ch];
	case AV_SAMPLE_FMT_S16P: return ((const int16_t *)d[ch])[i] / 32768.0f;
	case AV_SAMPLE_FMT_S16:  return ((const int16_t *)d[0])[i*nch + ch] / 32768.0f;
	case AV_SAMPLE_FMT_S32P: return (float)(((const int32_t *)d[ch])[i] / 2147483648.0);
	case AV_SAMPLE_FMT_S32:  return (float)(((const int32_t *)d[0])[i*nch + ch] / 2147483648.0);
	}
	return NAN; // a format not handled
}

// es_aac_convert writes the received frame into out (room for its
// nb_samples) as mono int16: the channels' mean, rounded and clamped. It
// returns 0, or -1 for a sample format it does not handle.
static int es_aac_convert(es_aac *s, int16_t *out) {
	const AVFrame *f = s->frame;
	int nch = f->ch_layout.nb_channels, i, ch;
	if (nch < 1 || isnan(es_sample(f, nch, 0, 0))) {
		snprintf(s->msg, sizeof s->msg, "unsupported frame: %d channels of %s", nch, av_get_sample_fmt_name(f->format));
		return -1;
	}
	for (i = 0; i < f->nb_samples; i++) {
		float v = 0;
		for (ch = 0; ch < nch; ch++) {
			v += es_sample(f, nch, ch, i);
		}
		v = v / nch * 32768.0f;
		out[i] = v >= 32767.0f ? 32767 : v <= -32768.0f ? -32768 : (int16_t)lrintf(v);
	}
	return 0;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// Available reports whether the decoder was compiled in (build tag
// libcodecs, with cgo). In this build it was.
const Available = true

var setupLogging sync.Once

// AACDecoder decodes an ADTS stream of AAC into mono 16-bit PCM. Not safe
// for concurrent use.
type AACDecoder struct {
	s       *C.es_aac // nil once closed
	out     output
	cleanup runtime.Cleanup
}

// NewAACDecoder returns a decoder with output at outRateHz (> 0). Close it
// when done. The first call routes FFmpeg's log messages, process-wide, to
// this package, which drops all but errors and returns those with the
// failures they explain.
func NewAACDecoder(outRateHz int) (*AACDecoder, error) {
	if outRateHz <= 0 {
		return nil, fmt.Errorf("libav: new aac decoder: output rate %d Hz", outRateHz)
	}
	setupLogging.Do(func() { C.es_setup_logging() })
	var msg [256]C.char
	s := C.es_aac_new(&msg[0], C.size_t(len(msg)))
	if s == nil {
		return nil, fmt.Errorf("libav: new aac decoder: %s", C.GoString(&msg[0]))
	}
	d := &AACDecoder{s: s, out: output{rate: outRateHz}}
	d.cleanup = runtime.AddCleanup(d, func(s *C.es_aac) { C.es_aac_free(s) }, s)
	return d, nil
}

// maxFeed bounds the bytes given to the parser in one call (a C int).
const maxFeed = 1 << 20

// Decode parses data, the next bytes of an ADTS stream split anywhere
// (whole frames, several, or part of one: the rest of a frame is awaited
// from the next calls), decodes every frame it completes, and appends their
// audio to pcm as mono at the output rate: channels are averaged, and a
// stream at another rate is resampled (streaming, so the output lags by
// about a millisecond; the rate may change mid-stream). It returns the
// extended slice. A frame the decoder refuses is skipped with an error
// wrapping ErrBadFrame (errors joined if several); the rest of data is
// still decoded and returned, and the decoder stays usable. data is only
// read during the call.
func (d *AACDecoder) Decode(data []byte, pcm []int16) ([]int16, error) {
	if d.s == nil {
		return pcm, fmt.Errorf("libav: aac: %w", ErrClosed)
	}
	var errs []error
	for len(data) > 0 {
		var used C.int
		chunk := data[:min(len(data), maxFeed)]
		ret := C.es_aac_feed(d.s, (*C.uint8_t)(unsafe.Pointer(&chunk[0])), C.int(len(chunk)), &used)
		data = data[max(int(used), 0):]
		switch {
		case ret < 0:
			errs = append(errs, fmt.Errorf("libav: aac: %w: %s", ErrBadFrame, d.message()))
		case ret > 0:
			var err error
			if pcm, err = d.drain(pcm); err != nil {
				errs = append(errs, err)
			}
		}
		if used <= 0 && ret <= 0 {
			break // no progress: never seen, but never spin
		}
	}
	runtime.KeepAlive(d)
	return pcm, errors.Join(errs...)
}

// drain appends the decoder's pending frames to pcm.
func (d *AACDecoder) drain(pcm []int16) ([]int16, error) {
	for {
		var rate C.int
		n := int(C.es_aac_receive(d.s, &rate))
		switch {
		case n == 0:
			return pcm, nil
		case n < 0:
			return pcm, fmt.Errorf("libav: aac: %w: %s", ErrBadFrame, d.message())
		}
		if int(rate) <= 0 {
			return pcm, fmt.Errorf("libav: aac: %w: frame without a sample rate", ErrBadFrame)
		}
		var dst []int16
		pcm, dst = d.out.frame(pcm, n, int(rate))
		if C.es_aac_convert(d.s, (*C.int16_t)(unsafe.Pointer(&dst[0]))) < 0 {
			return pcm, fmt.Errorf("libav: aac: %s", d.message())
		}
		pcm = d.out.commit(pcm, dst)
	}
}

// message is why the last C call failed.
func (d *AACDecoder) message() string { return C.GoString(&d.s.msg[0]) }

// Close frees the decoder's C memory. Later calls do nothing.
func (d *AACDecoder) Close() {
	if d.s == nil {
		return
	}
	d.cleanup.Stop()
	C.es_aac_free(d.s)
	d.s = nil
}
