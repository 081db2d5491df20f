package emulate

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/coder/websocket"
)

// Soniox's control messages: {"type": "keepalive"} and {"type":
// "finalize"} (its trailing_silence_ms is ignored).
const (
	sonioxKeepAlive = "keepalive"
	sonioxFinalize  = "finalize"
)

// handle acts on one client frame. It reports over=true, with how the
// stream ended, when the frame ended the stream.
func (st *sonioxStream) handle(f frame) (end string, over bool) {
	if !st.started {
		return st.begin(f)
	}
	if len(f.data) == 0 { // an empty binary or text frame ends the audio
		return st.finish()
	}
	if f.typ == websocket.MessageBinary {
		st.audio(f.data)
		return "", false
	}
	switch typ, err := parseSonioxControl(f.data); {
	case err != nil:
		st.log.Debug("emulate: ignoring text frame", "err", err)
	case typ == sonioxKeepAlive:
		st.sum.KeepAlives++
	case typ == sonioxFinalize:
		st.sum.Finalizes++
		if !st.faults.Stall {
			st.sendFinals(st.rec.Flush(), st.samples, SonioxFinToken)
		}
	}
	return "", false
}

// begin takes the stream's first frame, which must be a valid start
// message: then the stream's recognizer is made for its sample rate.
// Anything else, or a recognizer that cannot be made, is answered with an
// error response and the close (EndRejected). While stalled nothing is
// answered and no recognizer is made: the first frame is read (a valid
// start message still fills StreamSummary.Params) and the stream goes on.
func (st *sonioxStream) begin(f frame) (end string, over bool) {
	if st.faults.Stall {
		st.started = true
		if f.typ == websocket.MessageBinary {
			st.audio(f.data)
		} else if start, q, err := parseSonioxStart(f.data); err == nil {
			st.start, st.sum.Params = &start, q
		}
		return "", false
	}
	if f.typ == websocket.MessageBinary {
		st.sum.AudioBytes += int64(len(f.data))
		st.log.Info("emulate: rejecting stream: audio before the start message")
		return st.reject(http.StatusBadRequest,
			"Invalid start request: the start request (JSON) must be sent before any audio.")
	}
	start, q, err := parseSonioxStart(f.data)
	if err != nil {
		st.log.Info("emulate: rejecting stream: bad start message", "err", err)
		msg := sonioxMessage(http.StatusBadRequest)
		if se := (*startError)(nil); errors.As(err, &se) {
			msg = se.Msg
		}
		return st.reject(http.StatusBadRequest, msg)
	}
	rec, err := st.newRec(start.rateHz)
	if err == nil && rec == nil {
		err = fmt.Errorf("%w: Config.Recognizer returned neither a Recognizer nor an error", ErrBadConfig)
	}
	if err != nil {
		status := recognizerRefusal(err).status
		if status == http.StatusTooManyRequests {
			st.log.Info("emulate: rejecting stream: recognizer at capacity", "err", err)
		} else {
			st.log.Error("emulate: rejecting stream: recognizer failed to start", "err", err)
		}
		return st.reject(status, sonioxMessage(status))
	}
	st.started, st.start, st.rec, st.sum.Params = true, &start, rec, q
	st.form = formFor(streamParams{punctuate: true}, rec)
	st.log.Info("emulate: stream started", "model", start.model, "sample_rate", start.rateHz,
		"diarization", start.diarize, "endpoint_detection", start.endpoints)
	return "", false
}

// reject answers the first frame with an error response and closes.
func (st *sonioxStream) reject(code int, msg string) (end string, over bool) {
	st.fail(code, msg, websocket.StatusNormalClosure, "")
	return EndRejected, true
}

// finish answers the end of the audio: the flushed words as final tokens,
// a response with "finished": true, then close 1000. While stalled it
// answers nothing and the stream stays open.
func (st *sonioxStream) finish() (end string, over bool) {
	if st.faults.Stall {
		return "", false
	}
	st.sendFinals(st.rec.Flush(), st.samples, "")
	st.respond(nil, samplesToMs(st.samples, st.start.rateHz), true)
	if err := st.conn.Close(websocket.StatusNormalClosure, ""); err != nil {
		st.log.Debug("emulate: close handshake", "err", err)
	}
	return EndCloseStream, true
}

// parseSonioxControl decodes a text frame after the start message: a JSON
// object whose "type" member (key and value matched exactly) is
// "keepalive" or "finalize". Other members are ignored. Anything else
// returns an error wrapping ErrBadControl; the caller ignores such frames.
func parseSonioxControl(b []byte) (string, error) {
	if len(b) > maxControlBytes {
		return "", fmt.Errorf("%w: %d bytes", ErrBadControl, len(b))
	}
	var msg map[string]json.RawMessage // exact key match
	if err := json.Unmarshal(b, &msg); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadControl, err)
	}
	var typ string
	if err := json.Unmarshal(msg["type"], &typ); err != nil {
		return "", fmt.Errorf("%w: type: %w", ErrBadControl, err)
	}
	if typ != sonioxKeepAlive && typ != sonioxFinalize {
		return "", fmt.Errorf("%w: unknown type %q", ErrBadControl, typ)
	}
	return typ, nil
}
