package emulate

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"earshot/stages"
)

// Recognizer turns one stream's linear16 mono audio into words. Times in
// returned words are seconds since the start of the stream in provider time:
// they count audio received, not wall time.
//
// A Recognizer serves one stream and is called from that stream's goroutine
// only; it need not be safe for concurrent use.
//
// A Recognizer that holds resources (a decoder, a connection) also
// implements io.Closer: the Server calls Close exactly once when the stream
// ends, after its connection is closed and before the stream leaves
// Stats.Active and OnStreamEnd is called; a non-nil error is logged (at
// warn level) and otherwise ignored. Nothing is called after Close.
//
// A Recognizer of spoken language also implements Speech, so that the
// server writes its words' punctuated forms as Deepgram does; the words of
// other recognizers are sent as they are spelled. Either way the server
// rounds their times to milliseconds (clamped into their Results).
type Recognizer interface {
	// Accept feeds audio (whole little-endian int16 samples; the server
	// carries an odd trailing byte over to the next frame, so pcm may be
	// empty) and returns the words that are now complete, in time order.
	// pcm is not retained.
	Accept(pcm []byte) []stages.Word
	// Flush ends any word in progress and returns it (used on Finalize and
	// CloseStream). The stream may go on after a Flush.
	Flush() []stages.Word
}

// NewRecognizer makes one Recognizer per stream, for audio at sampleRateHz.
//
// The Server calls it once per upgrade attempt that passed the fault, auth
// and parameter checks, before answering the upgrade, from the attempt's
// goroutine: calls may be concurrent. An error refuses the upgrade (no
// stream is accepted, nothing is to be closed): an error wrapping
// stages.ErrCapacity with HTTP 429 TOO_MANY_REQUESTS, as Deepgram answers
// a project over its concurrency limit, any other error with HTTP 500
// INTERNAL_SERVER_ERROR. The error's text is logged, never sent. (With
// ProtocolSoniox the call comes after the upgrade, on the stream's start
// message, and the error is answered in the stream: see Config.Recognizer.)
type NewRecognizer func(sampleRateHz int) (Recognizer, error)

// recognizerRefusal is the answer to an upgrade whose recognizer could not
// be made.
func recognizerRefusal(err error) refusal {
	status := http.StatusInternalServerError
	if errors.Is(err, stages.ErrCapacity) {
		status = http.StatusTooManyRequests
	}
	return refusal{status: status, code: errorCode(status), msg: errorMessage(status)}
}

// openRecognizer makes the recognizer of an upgrade attempt, or refuses
// the attempt and reports false.
func (s *Server) openRecognizer(w http.ResponseWriter, id string, rateHz int, log *slog.Logger) (Recognizer, bool) {
	rec, err := s.cfg.Recognizer(rateHz)
	if err == nil && rec == nil {
		err = fmt.Errorf("%w: Config.Recognizer returned neither a Recognizer nor an error", ErrBadConfig)
	}
	if err != nil {
		rf := recognizerRefusal(err)
		if rf.status == http.StatusTooManyRequests {
			log.Info("emulate: refusing upgrade: recognizer at capacity", "err", err)
		} else {
			log.Error("emulate: refusing upgrade: recognizer failed to start", "err", err)
		}
		s.refuse(w, id, rf)
		return nil, false
	}
	return rec, true
}

// closeRecognizer closes rec if it is an io.Closer, logging a failure.
func closeRecognizer(rec Recognizer, log *slog.Logger) {
	c, ok := rec.(io.Closer)
	if !ok {
		return
	}
	if err := c.Close(); err != nil {
		log.Warn("emulate: recognizer failed", "err", err)
	}
}
