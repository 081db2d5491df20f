package emulate

import (
	"context"
	"errors"
	"fmt"

	"earshot/stages"
)

// FromProvider makes recognizers out of p's streams: each emulated stream
// dials one stream of p (StreamConfig: the stream's sample rate, 1 channel,
// language "en"; the audio is linear16), feeds it the audio, and returns
// the words of p's final results. Interim results are dropped. Word times
// pass through unchanged: p's seconds since the start of its stream are
// the emulator's stream clock, since both count the audio received.
//
// Its recognizers implement Speech: p's words are spoken language, so with
// punctuate or smart_format the server writes them as Deepgram does
// (sentence casing, a period at the end of each final) whether or not p
// punctuates already, and without either it sends the bare words.
//
// A Dial error refuses the upgrade (see NewRecognizer): a p at capacity
// (an error wrapping stages.ErrCapacity, as the local recognizer's when
// every decoder is busy) gives HTTP 429. The stream's Close closes p's
// stream (which gives a local decoder back to its pool); p itself stays
// the caller's to close, after the Server.
//
// # Synchronous streams only
//
// The emulator answers in the stream's goroutine, so the recognizer must
// not wait for results; FromProvider starts no goroutine. It needs streams
// that decode synchronously and whose Recv never blocks on a done context:
//
//   - Dial answers at once (it gets a context that never ends, from the
//     upgrade's goroutine);
//   - SendAudio and SendControl(ControlFinalize) queue every result they
//     produce before they return (Finalize's result included);
//   - Recv given a context that is already done returns the queued results
//     first, then the context's error, and the stream stays usable.
//
// The local recognizer (earshot/stages/local) works so. That is more than
// the stages.Stream contract promises: a network stream (stages/deepgram)
// gets results later, and tears its connection down when Recv sees a done
// context, so its words would be lost. Do not use FromProvider with one.
//
// Failures: once a send or Recv fails (other than with the done context),
// the recognizer returns no more words, and its Close returns the first
// failure (the Server logs it).
func FromProvider(p stages.Provider) NewRecognizer {
	return func(sampleRateHz int) (Recognizer, error) {
		s, err := p.Dial(context.Background(), stages.StreamConfig{
			SampleRateHz: sampleRateHz,
			Channels:     1,
			Language:     "en",
		})
		if err != nil {
			return nil, fmt.Errorf("emulate: dialing %s: %w", p.Name(), err)
		}
		return &providerRecognizer{name: p.Name(), s: s}, nil
	}
}

// drained is the done context that Recv gets while the recognizer drains
// the queued results.
var drained = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// providerRecognizer is one stream of a synchronous provider as a
// Recognizer (and io.Closer). Used from one goroutine.
type providerRecognizer struct {
	name string
	s    stages.Stream
	err  error // the first failure; no more input after it
}

// Speech reports true: a provider recognises spoken language.
func (r *providerRecognizer) Speech() bool { return true }

// Accept sends pcm (unless empty) and returns the words of the final
// results that are now queued.
func (r *providerRecognizer) Accept(pcm []byte) []stages.Word {
	if r.err != nil {
		return nil
	}
	if len(pcm) > 0 {
		if err := r.s.SendAudio(context.Background(), pcm); err != nil {
			r.fail(fmt.Errorf("sending audio: %w", err))
		}
	}
	return r.drain()
}

// Flush sends Finalize and returns the words of the final results it
// queued (and of any queued before it).
func (r *providerRecognizer) Flush() []stages.Word {
	if r.err != nil {
		return nil
	}
	if err := r.s.SendControl(context.Background(), stages.ControlFinalize); err != nil {
		r.fail(fmt.Errorf("sending Finalize: %w", err))
	}
	return r.drain()
}

// Close closes the stream at once and returns the stream's first failure,
// if any, joined with Close's own error.
func (r *providerRecognizer) Close() error {
	var cerr error
	if err := r.s.Close(); err != nil {
		cerr = fmt.Errorf("emulate: closing the %s stream: %w", r.name, err)
	}
	return errors.Join(r.err, cerr)
}

// drain returns the words of the queued final results, in order, without
// waiting (Recv gets a done context).
func (r *providerRecognizer) drain() []stages.Word {
	var words []stages.Word
	for {
		res, err := r.s.Recv(drained)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				r.fail(fmt.Errorf("receiving: %w", err))
			}
			return words
		}
		if res.IsFinal {
			words = append(words, res.Words...)
		}
	}
}

// fail records the first failure.
func (r *providerRecognizer) fail(err error) {
	if r.err == nil {
		r.err = fmt.Errorf("emulate: %s stream: %w", r.name, err)
	}
}
