//go:build pocketsphinx

package local

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"earshot/internal/resample"
	"earshot/stages"
)

// Utterance bounds, in 16 kHz samples.
const (
	// maxUtterance: an utterance this long ends even without a pause
	// (final results, and the decoder's memory, stay bounded).
	maxUtterance = 15 * ModelRateHz
	// idleFinal: this much audio without speech gives an empty final
	// result, so that the connector can let go of the audio.
	idleFinal = 2 * ModelRateHz
	// keepBehind is the audio kept before the current position while
	// idle: the pre-roll of the next utterance and its onset frames.
	keepBehind = vadPrerollMs*ModelRateHz/1000 + vadOnsetFrames*vadFrame
)

// endKind says why an utterance ended.
type endKind int

const (
	endPause    endKind = iota + 1 // PauseMs without speech
	endLength                      // maxUtterance reached
	endFinalize                    // Finalize or CloseStream
)

// stream is one recognition stream on a decoder of the pool; it
// implements stages.Stream.
//
// Concurrency: SendAudio and SendControl are serialised by sendMu (they
// decode in the caller's goroutine); Recv waits on the result queue under
// mu; Close may be called at any time: it unblocks Recv at once, and
// waits for a decoder call in progress (at most one chunk) before putting
// the decoder back.
type stream struct {
	p           *Provider
	channels    int
	chunk       int // samples per decoder call
	pauseFrames int // non-speech frames that end an utterance
	partials    bool

	closed atomic.Bool

	// Guarded by sendMu.
	sendMu    sync.Mutex
	dec       *decoder // nil once released
	ended     bool     // CloseStream done
	failed    error    // the decoder failed
	carry     []byte   // bytes of an incomplete sample frame
	rs        *resample.Resampler
	pcm       []int16 // scratch: one call's audio as mono samples
	pending   []int16 // 16 kHz audio not yet analysed (under one chunk)
	hist      []int16 // 16 kHz audio from histStart to pos
	histStart int64
	pos       int64 // 16 kHz samples analysed: the stream clock
	vad       detector
	run       int // consecutive speech frames while idle
	silent    int // consecutive non-speech frames in an utterance
	inUtt     bool
	uttStart  int64 // first sample of the utterance
	fed       int64 // samples given to the decoder in the utterance
	covered   int64 // end of the last final result
	lastHyp   string
	segs      []segment
	fill      []int16 // narrowband input: noise for the empty band
	filled    []int16 // scratch: audio plus fill

	// Guarded by mu.
	mu    sync.Mutex
	cond  sync.Cond
	queue []stages.Result
	eof   bool  // CloseStream answered: io.EOF after the queue
	err   error // the stream failed: returned after the queue
}

var _ stages.Stream = (*stream)(nil)

func newStream(p *Provider, d *decoder, rate, channels int) *stream {
	s := &stream{
		p:           p,
		channels:    channels,
		chunk:       p.cfg.ChunkMs * ModelRateHz / 1000,
		pauseFrames: p.cfg.PauseMs * ModelRateHz / 1000 / vadFrame,
		partials:    p.cfg.Partials,
		dec:         d,
	}
	if rate != ModelRateHz {
		s.rs = resample.New(rate, ModelRateHz)
	}
	// Like every session, a narrowband one starts from the primed
	// (wideband) mean: starting it from a narrowband mean of its own was
	// measured no better.
	s.fill = p.fill(rate)
	s.cond.L = &s.mu
	return s
}

// SendAudio takes linear16 audio (little-endian, interleaved when there
// are several channels) and decodes every whole chunk of it before
// returning; results go to Recv's queue. pcm is not retained.
//
// Errors: ctx's error if it is already done; ErrClosed after Close or
// CloseStream; a retryable *stages.UpstreamError (code DECODER) if the
// decoder failed.
func (s *stream) SendAudio(ctx context.Context, pcm []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local send: %w", err)
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	s.appendAudio(pcm)
	done := 0
	for len(s.pending)-done >= s.chunk {
		if s.closed.Load() {
			break
		}
		if err := s.analyse(s.pending[done : done+s.chunk]); err != nil {
			return s.fail(err)
		}
		done += s.chunk
	}
	s.pending = s.pending[:copy(s.pending, s.pending[done:])]
	if s.closed.Load() {
		return fmt.Errorf("local send: %w", ErrClosed)
	}
	return nil
}

// SendControl handles KeepAlive (nothing to do), Finalize (end the
// current utterance now: a final result with FromFinalize, empty when
// nothing was said, covering all audio so far) and CloseStream (Finalize,
// then Recv returns io.EOF after the last result; the decoder goes back
// to the pool at once). Other controls give ErrUnknownControl. Errors are
// as for SendAudio.
func (s *stream) SendControl(ctx context.Context, c stages.Control) error {
	switch c {
	case stages.ControlKeepAlive, stages.ControlFinalize, stages.ControlCloseStream:
	default:
		return fmt.Errorf("local: control %d: %w", int(c), ErrUnknownControl)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local send: %w", err)
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if c == stages.ControlKeepAlive {
		return nil
	}
	if err := s.finalize(); err != nil {
		return s.fail(err)
	}
	if c == stages.ControlCloseStream {
		s.ended = true
		s.releaseDecoder()
		s.mu.Lock()
		s.eof = true
		s.cond.Broadcast()
		s.mu.Unlock()
	}
	return nil
}

// Recv returns the next result, waiting for one. Times are seconds of
// (16 kHz) audio since the stream started. It returns io.EOF after the
// last result once CloseStream was handled, ErrClosed after Close, the
// decoder's failure (a retryable *stages.UpstreamError) after the results
// before it, and ctx's error when ctx ends while waiting.
func (s *stream) Recv(ctx context.Context) (stages.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	watching := false
	for {
		switch {
		case s.closed.Load():
			return stages.Result{}, fmt.Errorf("local recv: %w", ErrClosed)
		case len(s.queue) > 0:
			r := s.queue[0]
			s.queue[0] = stages.Result{}
			s.queue = s.queue[1:]
			return r, nil
		case s.err != nil:
			return stages.Result{}, s.err
		case s.eof:
			return stages.Result{}, io.EOF
		case ctx.Err() != nil:
			if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, ctx.Err()) {
				return stages.Result{}, fmt.Errorf("local recv: %w: %w", ctx.Err(), cause)
			}
			return stages.Result{}, fmt.Errorf("local recv: %w", ctx.Err())
		}
		if !watching && ctx.Done() != nil {
			watching = true
			stop := context.AfterFunc(ctx, func() {
				s.mu.Lock()
				s.cond.Broadcast()
				s.mu.Unlock()
			})
			defer stop()
		}
		s.cond.Wait()
	}
}

// Close ends the stream at once: Recv returns ErrClosed, queued results
// are dropped, and the decoder goes back to the pool (after the decoder
// call in progress, if any, which takes at most one chunk's work). It is
// idempotent and safe to call concurrently with every method.
func (s *stream) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.mu.Lock()
	s.queue = nil
	s.cond.Broadcast()
	s.mu.Unlock()
	s.sendMu.Lock()
	s.releaseDecoder()
	s.sendMu.Unlock()
	return nil
}

// usable says why the stream can take no more input, if it cannot.
func (s *stream) usable() error {
	switch {
	case s.closed.Load():
		return fmt.Errorf("local send: %w", ErrClosed)
	case s.failed != nil:
		return s.failed
	case s.ended:
		return fmt.Errorf("local send after CloseStream: %w", ErrClosed)
	}
	return nil
}

// fail ends the stream after a decoder error: the decoder is replaced in
// the pool, Recv reports the error after the queued results.
func (s *stream) fail(err error) error {
	ue := &stages.UpstreamError{Code: "DECODER", Reason: "local decoder failed", Err: err}
	s.failed = ue
	if s.dec != nil {
		s.p.release(s.dec, true)
		s.dec = nil
	}
	s.mu.Lock()
	s.err = ue
	s.cond.Broadcast()
	s.mu.Unlock()
	return ue
}

// releaseDecoder gives the decoder back to the pool once. sendMu held.
func (s *stream) releaseDecoder() {
	if s.dec != nil {
		s.p.release(s.dec, false)
		s.dec = nil
	}
}

// appendAudio converts pcm to mono 16 kHz samples on s.pending.
func (s *stream) appendAudio(pcm []byte) {
	frame := 2 * s.channels
	if len(s.carry) > 0 {
		need := frame - len(s.carry)
		if len(pcm) < need {
			s.carry = append(s.carry, pcm...)
			return
		}
		s.carry = append(s.carry, pcm[:need]...)
		pcm = pcm[need:]
		s.pcm = appendMono(s.pcm[:0], s.carry, s.channels)
		s.carry = s.carry[:0]
	} else {
		s.pcm = s.pcm[:0]
	}
	whole := len(pcm) / frame * frame
	s.pcm = appendMono(s.pcm, pcm[:whole], s.channels)
	s.carry = append(s.carry, pcm[whole:]...)
	if s.rs == nil {
		s.pending = append(s.pending, s.pcm...)
		return
	}
	s.pending = s.rs.Int16(s.pending, s.pcm)
}

// appendMono appends the samples of whole frames in b, averaging the
// channels.
func appendMono(dst []int16, b []byte, channels int) []int16 {
	if channels == 1 {
		for i := 0; i+1 < len(b); i += 2 {
			dst = append(dst, int16(binary.LittleEndian.Uint16(b[i:])))
		}
		return dst
	}
	frame := 2 * channels
	for i := 0; i+frame <= len(b); i += frame {
		var sum int
		for c := range channels {
			sum += int(int16(binary.LittleEndian.Uint16(b[i+2*c:])))
		}
		dst = append(dst, int16(sum/channels))
	}
	return dst
}

// analyse runs the speech detector over one chunk (16 kHz), starts and
// ends utterances, and feeds the decoder the audio inside them.
func (s *stream) analyse(c []int16) error {
	base := s.pos
	s.hist = append(s.hist, c...)
	for off := 0; off < len(c); off += vadFrame {
		f := c[off:min(off+vadFrame, len(c))]
		speech := s.vad.speech(f)
		end := base + int64(off+len(f))
		if !s.inUtt {
			if !speech {
				s.run = 0
				continue
			}
			s.run++
			if s.run < vadOnsetFrames {
				continue
			}
			start := end - int64(s.run*vadFrame) - vadPrerollMs*ModelRateHz/1000
			if err := s.startUtt(max(start, s.covered, s.histStart)); err != nil {
				return err
			}
			continue
		}
		if speech {
			s.silent = 0
		} else {
			s.silent++
		}
		switch {
		case s.silent >= s.pauseFrames:
			if err := s.endUtt(end, endPause); err != nil {
				return err
			}
		case end-s.uttStart >= maxUtterance:
			if err := s.endUtt(end, endLength); err != nil {
				return err
			}
		}
	}
	s.pos = base + int64(len(c))
	if s.inUtt {
		if err := s.feed(s.speechEnd(s.pos)); err != nil {
			return err
		}
		if s.partials {
			s.partial()
		}
	} else if idleEnd := s.pos - keepBehind; idleEnd-s.covered >= idleFinal {
		s.emit(s.result(nil, idleEnd, false, false))
	}
	// Keep the pre-roll of the next utterance (the decoder has had the
	// rest).
	keep := s.pos - keepBehind
	if s.inUtt {
		keep = min(keep, s.fed)
	}
	if drop := int(keep - s.histStart); drop > 0 {
		s.hist = s.hist[:copy(s.hist, s.hist[drop:])]
		s.histStart += int64(drop)
	}
	return nil
}

// startUtt starts an utterance at sample start (within hist).
func (s *stream) startUtt(start int64) error {
	if err := s.dec.start(); err != nil {
		return err
	}
	s.inUtt, s.uttStart, s.fed, s.silent, s.run = true, start, start, 0, 0
	s.lastHyp = ""
	return nil
}

// speechEnd is where the decoder's input stops when the utterance is at
// sample end: a pause is decoded only up to vadTailMs (more silence only
// gives the decoder room to imagine words); the rest waits in hist, in
// case speech resumes before the pause ends the utterance.
func (s *stream) speechEnd(end int64) int64 {
	return min(end, end-int64(s.silent*vadFrame)+vadTailMs*ModelRateHz/1000)
}

// feed gives the decoder the utterance's audio up to sample to.
func (s *stream) feed(to int64) error {
	if to <= s.fed {
		return nil
	}
	pcm := s.hist[s.fed-s.histStart : to-s.histStart]
	if s.fill != nil {
		s.filled = addFill(s.filled, pcm, s.fill, s.fed)
		pcm = s.filled
	}
	err := s.dec.process(pcm)
	s.fed = to
	return err
}

// endUtt feeds the utterance up to sample end, ends it and queues its
// final result, covering the audio since the previous final.
func (s *stream) endUtt(end int64, why endKind) error {
	if err := s.feed(s.speechEnd(end)); err != nil {
		return err
	}
	if err := s.dec.end(); err != nil {
		return err
	}
	s.inUtt, s.run, s.lastHyp = false, 0, ""
	s.segs = s.dec.segments(s.segs[:0])
	s.emit(s.result(s.words(true), end, why == endPause, why == endFinalize))
	return nil
}

// finalize ends what was heard so far: the audio under one chunk is
// analysed, an utterance in progress ends, and a final result with
// FromFinalize covers everything up to now (empty when no utterance was
// in progress).
func (s *stream) finalize() error {
	if len(s.pending) > 0 {
		err := s.analyse(s.pending)
		s.pending = s.pending[:0]
		if err != nil {
			return err
		}
	}
	if s.inUtt {
		return s.endUtt(s.pos, endFinalize)
	}
	s.emit(s.result(nil, s.pos, false, true))
	return nil
}

// partial queues an interim result when the best hypothesis changed.
func (s *stream) partial() {
	h := s.dec.hyp()
	if h == s.lastHyp {
		return
	}
	s.lastHyp = h
	s.segs = s.dec.segments(s.segs[:0])
	s.emit(stages.Result{
		Words:       s.words(false),
		StartSec:    float64(s.covered) / ModelRateHz,
		DurationSec: float64(s.pos-s.covered) / ModelRateHz,
	})
}

// words turns s.segs into a fresh slice of stages.Word in stream time,
// punctuated as an utterance (final: it ended) or the start of one.
func (s *stream) words(final bool) []stages.Word {
	if len(s.segs) == 0 {
		return nil
	}
	origin := float64(s.uttStart) / ModelRateHz
	out := make([]stages.Word, len(s.segs))
	for i, g := range s.segs {
		out[i] = stages.Word{
			Word:       g.word,
			Punctuated: g.word,
			StartSec:   origin + float64(g.start)*frameSec,
			EndSec:     origin + float64(g.end+1)*frameSec,
			Confidence: g.prob,
		}
	}
	punctuate(out, final)
	return out
}

// result builds a final result covering the audio from the previous
// final to sample end, and moves the covered mark there.
func (s *stream) result(words []stages.Word, end int64, speechFinal, fromFinalize bool) stages.Result {
	start := s.covered
	s.covered = max(end, s.covered)
	return stages.Result{
		Words:        words,
		StartSec:     float64(start) / ModelRateHz,
		DurationSec:  float64(s.covered-start) / ModelRateHz,
		IsFinal:      true,
		SpeechFinal:  speechFinal,
		FromFinalize: fromFinalize,
	}
}

// emit queues r for Recv.
func (s *stream) emit(r stages.Result) {
	s.mu.Lock()
	if !s.closed.Load() {
		s.queue = append(s.queue, r)
		s.cond.Broadcast()
	}
	s.mu.Unlock()
}
