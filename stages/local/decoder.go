//go:build pocketsphinx

package local

/*
// Linked statically (Debian's libpocketsphinx-dev and libsphinxbase-dev
// ship the archives), so that the binary needs no pocketsphinx library at
// run time: only the model files (package pocketsphinx-en-us), whose
// absence New reports by name. Only the decoder's objects are pulled in;
// sphinxbase's LAPACK-backed matrix code is not.
#cgo CFLAGS: -I/usr/include/pocketsphinx -I/usr/include/sphinxbase
#cgo LDFLAGS: -Wl,-Bstatic -lpocketsphinx -lsphinxbase -Wl,-Bdynamic -lm -lpthread
#if !__has_include(<pocketsphinx.h>) || !__has_include(<sphinxbase/cmn.h>)
#error "earshot: the pocketsphinx build tag needs Debian's packages: apt-get install -y --no-install-recommends gcc libc6-dev libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us (or run scripts/setup-pocketsphinx.sh as root)"
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/cmn.h>
#include <sphinxbase/feat.h>

// The last error message logged on this thread (pocketsphinx logs the
// reason a decoder failed to load, then returns NULL).
static __thread char es_last_err[256];

// es_log receives every pocketsphinx/sphinxbase log line. Only errors are
// kept, the rest (hundreds of lines per decoder) is dropped, as is the
// location prefix of a message (ERROR: "file.c", line 12: ...).
static void es_log(void *user, err_lvl_t lvl, const char *fmt, ...) {
	char buf[sizeof es_last_err];
	const char *msg = buf, *p;
	va_list ap;
	size_t n;
	(void)user;
	if (lvl < ERR_ERROR) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if ((p = strstr(buf, "\", line ")) != NULL && (p = strstr(p, ": ")) != NULL) {
		msg = p + 2;
	}
	n = strlen(msg);
	while (n > 0 && (msg[n-1] == '\n' || msg[n-1] == ' ')) {
		n--;
	}
	if (n > 0) {
		memmove(es_last_err, msg, n);
		es_last_err[n] = 0;
	}
}

static void es_setup_logging(void) {
	err_set_logfp(NULL); // also silences the configuration dump
	err_set_callback(es_log, NULL);
}

// es_init parses argv and loads a decoder. On failure it returns NULL and
// copies the last logged error into msg.
static ps_decoder_t *es_init(int argc, char **argv, char *msg, size_t msglen) {
	cmd_ln_t *cfg;
	ps_decoder_t *ps = NULL;
	es_last_err[0] = 0;
	cfg = cmd_ln_parse_r(NULL, ps_args(), argc, argv, 1);
	if (cfg != NULL) {
		ps = ps_init(cfg);
		cmd_ln_free_r(cfg);
	}
	if (ps == NULL) {
		snprintf(msg, msglen, "%s", es_last_err);
	}
	return ps;
}

// es_norm is the state that a decoder carries from one utterance to the
// next, that ps_start_utt leaves alone and that the installed headers
// reach: the feature normalisation. That is the live cepstral mean with
// the running sum and frame count it is updated from (a loaded decoder
// has cmninit and no frames behind it; cmn_live_set would give the mean
// the weight of 500 frames instead), the CMN mode (the model's, until the
// first block of live audio switches it to live), and the AGC state (none
// with Debian's model). The front end's noise statistics and stream
// clock, the rest, are what ps_start_stream resets.
typedef struct {
	cmn_type_t cmn;
	int32 veclen, nframe;
	mfcc_t *mean, *var, *sum; // veclen each, one allocation
	int has_agc;
	agc_t agc;
} es_norm;

// es_norm_save copies the decoder's normalisation state (NULL when out of
// memory). Free it with es_norm_free.
static es_norm *es_norm_save(ps_decoder_t *ps) {
	feat_t *f = ps_get_feat(ps);
	cmn_t *c = f->cmn_struct;
	size_t n = (size_t)c->veclen * sizeof(mfcc_t);
	es_norm *s = calloc(1, sizeof *s);
	if (s == NULL || (s->mean = calloc(3, n)) == NULL) {
		free(s);
		return NULL;
	}
	s->var = s->mean + c->veclen;
	s->sum = s->var + c->veclen;
	s->cmn = f->cmn;
	s->veclen = c->veclen;
	s->nframe = c->nframe;
	memcpy(s->mean, c->cmn_mean, n);
	if (c->cmn_var != NULL) {
		memcpy(s->var, c->cmn_var, n);
	}
	memcpy(s->sum, c->sum, n);
	if (f->agc_struct != NULL) {
		s->has_agc = 1;
		s->agc = *f->agc_struct;
	}
	return s;
}

// es_reset puts back the normalisation state s saved, and starts a new
// stream (the noise statistics and the stream clock start over). It
// returns <0 when s does not fit the decoder or pocketsphinx refuses.
static int es_reset(ps_decoder_t *ps, const es_norm *s) {
	feat_t *f = ps_get_feat(ps);
	cmn_t *c = f->cmn_struct;
	size_t n = (size_t)c->veclen * sizeof(mfcc_t);
	if (c->veclen != s->veclen) {
		return -1;
	}
	f->cmn = s->cmn;
	c->nframe = s->nframe;
	memcpy(c->cmn_mean, s->mean, n);
	if (c->cmn_var != NULL) {
		memcpy(c->cmn_var, s->var, n);
	}
	memcpy(c->sum, s->sum, n);
	if (s->has_agc && f->agc_struct != NULL) {
		*f->agc_struct = s->agc;
	}
	return ps_start_stream(ps);
}

static void es_norm_free(es_norm *s) {
	if (s != NULL) {
		free(s->mean);
		free(s);
	}
}

// es_seg is one segment of a hypothesis.
typedef struct {
	const char *word;
	int sf, ef;
	double prob;
} es_seg;

// es_seg_word fills out with the segment of an iterator and advances it.
static ps_seg_t *es_seg_word(ps_seg_t *seg, logmath_t *lm, es_seg *out) {
	int32 ascr, lscr, lback;
	out->word = ps_seg_word(seg);
	ps_seg_frames(seg, &out->sf, &out->ef);
	out->prob = logmath_exp(lm, ps_seg_prob(seg, &ascr, &lscr, &lback));
	return ps_seg_next(seg);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// frameSec is the decoder's frame shift.
const frameSec = 0.01

var setupLogging sync.Once

// decoder is one loaded pocketsphinx decoder. It is not safe for
// concurrent use: one stream owns it at a time.
type decoder struct {
	ps     *C.ps_decoder_t
	lmath  *C.logmath_t
	primed *C.es_norm // the normalisation state as loaded (reset puts it back)
	inUtt  bool
}

// segment is one recognised word of an utterance, in decoder frames since
// the utterance's start.
type segment struct {
	word       string
	start, end int // frames, end inclusive
	prob       float64
}

// loadDecoder loads a decoder with the given pocketsphinx arguments
// ("-hmm", dir, ...).
func loadDecoder(args []string) (*decoder, error) {
	setupLogging.Do(func() { C.es_setup_logging() })
	argv := make([]*C.char, 0, len(args)+1)
	argv = append(argv, C.CString("earshot"))
	for _, a := range args {
		argv = append(argv, C.CString(a))
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	cargv := (**C.char)(C.malloc(C.size_t(len(argv)) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	defer C.free(unsafe.Pointer(cargv))
	copy(unsafe.Slice(cargv, len(argv)), argv)
	var msg [256]C.char
	ps := C.es_init(C.int(len(argv)), cargv, &msg[0], C.size_t(len(msg)))
	if ps == nil {
		reason := strings.TrimSpace(C.GoString(&msg[0]))
		if reason == "" {
			reason = "pocketsphinx could not load the decoder"
		}
		return nil, errors.New(reason)
	}
	primed := C.es_norm_save(ps)
	if primed == nil {
		C.ps_free(ps)
		return nil, errors.New("out of memory")
	}
	return &decoder{ps: ps, lmath: C.ps_get_logmath(ps), primed: primed}, nil
}

// free releases the decoder's memory.
func (d *decoder) free() {
	if d.ps != nil {
		C.ps_free(d.ps)
		d.ps = nil
	}
	C.es_norm_free(d.primed)
	d.primed = nil
}

// reset puts the decoder back in the state loading it gave (outside
// utterances): the live cepstral mean starts again from the model
// folder's cmninit, with no frames behind it, and a new pocketsphinx
// stream starts, whose noise statistics (spectral noise subtraction is on
// by default) start over. The rest that carries over from utterance to
// utterance is inside pocketsphinx, out of its API's reach; measured, it
// moves confidences by less than 1e-4 and never a word or a time.
func (d *decoder) reset() error {
	if d.inUtt {
		return errors.New("pocketsphinx: reset during an utterance")
	}
	if C.es_reset(d.ps, d.primed) < 0 {
		return errors.New("pocketsphinx: cannot reset the decoder")
	}
	return nil
}

// start begins an utterance.
func (d *decoder) start() error {
	if C.ps_start_utt(d.ps) < 0 {
		return errors.New("pocketsphinx: cannot start an utterance")
	}
	d.inUtt = true
	return nil
}

// process decodes pcm (16 kHz) within the current utterance.
func (d *decoder) process(pcm []int16) error {
	if len(pcm) == 0 {
		return nil
	}
	n := C.ps_process_raw(d.ps, (*C.int16)(unsafe.Pointer(&pcm[0])), C.size_t(len(pcm)), 0, 0)
	runtime.KeepAlive(pcm)
	if n < 0 {
		return fmt.Errorf("pocketsphinx: decoding failed (%d)", int(n))
	}
	return nil
}

// end ends the current utterance (a final search pass).
func (d *decoder) end() error {
	if !d.inUtt {
		return nil
	}
	d.inUtt = false
	if C.ps_end_utt(d.ps) < 0 {
		return errors.New("pocketsphinx: cannot end the utterance")
	}
	return nil
}

// hyp returns the current best hypothesis (partial during an utterance).
func (d *decoder) hyp() string {
	var score C.int32
	h := C.ps_get_hyp(d.ps, &score)
	if h == nil {
		return ""
	}
	return C.GoString(h)
}

// segments appends the words of the best hypothesis to dst, skipping
// silences, fillers and sentence markers and stripping pronunciation
// variants ("the(2)" gives "the"). Frames are counted from the
// utterance's start. (pocketsphinx counts segment frames from an origin
// of its own that moves on with every utterance; the best path always
// starts on the utterance's first frame, so its first segment gives that
// origin.)
func (d *decoder) segments(dst []segment) []segment {
	origin := -1
	seg := new(C.es_seg)
	for it := C.ps_seg_iter(d.ps); it != nil; {
		it = C.es_seg_word(it, d.lmath, seg)
		sf, ef := int(seg.sf), int(seg.ef)
		if origin < 0 {
			origin = sf
		}
		w := C.GoString(seg.word)
		if isFiller(w) {
			continue
		}
		if i := strings.IndexByte(w, '('); i > 0 {
			w = w[:i]
		}
		dst = append(dst, segment{word: w, start: sf - origin, end: ef - origin, prob: min(max(float64(seg.prob), 0), 1)})
	}
	return dst
}

// isFiller reports whether w is not a word: <s>, </s>, <sil>, [NOISE],
// ++GARBAGE++ and the like.
func isFiller(w string) bool {
	if w == "" {
		return true
	}
	switch w[0] {
	case '<', '[', '+', '(':
		return true
	}
	return false
}
