package emulate

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/url"
	"time"

	"github.com/coder/websocket"

	"earshot/stages"
)

// Messages of the emulator's Soniox error responses that clients may want
// to recognise. Both are 503s, Soniox's early termination of a
// best-effort session: the client should open a new stream and go on.
const (
	// SonioxDropMessage is sent (with error_code 503) when
	// Faults.DropAfterMs fires (not abrupt).
	SonioxDropMessage = "Cannot continue request (code 1). Please restart the request."
	// SonioxShutdownMessage is sent (with error_code 503) when the Server
	// closes, before the close 1001 ReasonShutdown.
	SonioxShutdownMessage = "Cannot continue request (code 2). Please restart the request."
)

// sonioxStream is one accepted Soniox connection. Its fields belong to the
// goroutine that calls run, except readErr (written by the reader
// goroutine before it closes its channel).
type sonioxStream struct {
	conn   *websocket.Conn
	log    *slog.Logger
	idle   time.Duration
	faults Faults
	stop   <-chan struct{} // closed when the Server closes
	newRec NewRecognizer

	id      string
	sum     StreamSummary
	started bool         // a first message was taken (valid, or read while stalled)
	start   *sonioxStart // the valid start message; nil before one
	rec     Recognizer   // made on a valid start, unless stalled; the caller closes it
	form    wordForm

	odd      []byte // a trailing odd byte carried to the next binary frame
	samples  int64  // whole samples received
	finalEnd int64  // end of the audio the final tokens cover, in samples
	words    int    // words sent so far
	readErr  error
}

// newSonioxStream serves conn for s.
func newSonioxStream(s *Server, conn *websocket.Conn, id string, log *slog.Logger) *sonioxStream {
	faults := s.cfg.Faults
	if n := s.opened.Add(1); faults.DropStreams > 0 && n > int64(faults.DropStreams) {
		faults.DropAfterMs = 0 // past the streams that drop
	}
	return &sonioxStream{
		conn:   conn,
		log:    log,
		idle:   ms(s.cfg.IdleTimeoutMs),
		faults: faults,
		stop:   s.stop,
		newRec: s.cfg.Recognizer,
		id:     id,
		sum:    StreamSummary{ID: id, Params: url.Values{}, Opened: time.Now()},
	}
}

// run serves the stream until it ends and returns how it ended (an End*
// constant), with the connection closed and the reader goroutine gone
// (serveFrames): Soniox's ends are error responses (408 idle, 503 drop
// and shutdown) before the close.
func (st *sonioxStream) run() (end string) {
	return serveFrames(st.conn, st.log, st.idle, st.faults, st.stop, &st.readErr, st.handle, streamEnds{
		idle: func() {
			st.fail(408, "Request timeout: no audio or keepalive within "+st.idle.String()+".",
				websocket.StatusNormalClosure, "")
		},
		drop:     func() { st.fail(503, SonioxDropMessage, websocket.StatusNormalClosure, "") },
		shutdown: func() { st.fail(503, SonioxShutdownMessage, websocket.StatusGoingAway, ReasonShutdown) },
	})
}

// audio counts a binary frame and feeds its whole samples to the
// recognizer; completed words go out at once as final tokens, ending an
// utterance (<end> with endpoint detection) where the Deepgram front end
// sends speech_final.
func (st *sonioxStream) audio(data []byte) {
	st.sum.AudioBytes += int64(len(data))
	if len(st.odd) > 0 {
		data = append(st.odd, data...)
		st.odd = nil
	}
	if len(data)%2 == 1 {
		st.odd = []byte{data[len(data)-1]}
		data = data[:len(data)-1]
	}
	st.samples += int64(len(data) / 2)
	if st.rec == nil { // stalled
		return
	}
	words := st.rec.Accept(data)
	if len(words) == 0 {
		return
	}
	var endSec float64
	for _, w := range words {
		endSec = max(endSec, w.EndSec)
	}
	end := int64(math.Round(endSec * float64(st.start.rateHz)))
	marker := ""
	if st.start.endpoints {
		marker = SonioxEndToken
	}
	st.sendFinals(words, min(max(end, st.finalEnd), st.samples), marker)
}

// sendFinals sends words as the final tokens of the audio from the
// previous finals' end to end (samples), then marker (if not ""), in one
// response or two (see wordTokens). Nothing is sent for no tokens.
func (st *sonioxStream) sendFinals(words []stages.Word, end int64, marker string) {
	sp := spanMs(span{start: st.finalEnd, end: end}, st.start.rateHz)
	st.finalEnd = end
	b := st.wordTokens(words, sp)
	if marker != "" {
		b.tokens = append(b.tokens, markerToken(marker))
	}
	if len(b.tokens) == 0 {
		return
	}
	if b.cut >= 0 && b.cut+1 < len(b.tokens) {
		st.respond(b.tokens[:b.cut+1], b.cutMs, false)
		b.tokens = b.tokens[b.cut+1:]
	}
	st.respond(b.tokens, sp.end, false)
}

// respond sends one result response: tokens, final up to finalMs.
func (st *sonioxStream) respond(tokens []sonioxToken, finalMs int64, finished bool) {
	if tokens == nil {
		tokens = []sonioxToken{}
	}
	st.send(sonioxResponse{
		Tokens:           tokens,
		FinalAudioProcMs: finalMs,
		TotalAudioProcMs: samplesToMs(st.samples, st.start.rateHz),
		Finished:         finished,
	})
}

// fail ends the stream from the server side: an error response (unless
// stalled), then a close frame with code and reason.
func (st *sonioxStream) fail(errorCode int, msg string, code websocket.StatusCode, reason string) {
	if !st.faults.Stall {
		st.send(newSonioxError(errorCode, msg, st.id))
	}
	if err := st.conn.Close(code, reason); err != nil {
		st.log.Debug("emulate: close handshake", "err", err)
	}
}

// send writes one JSON text message; like stream.send it only logs a
// failure (a failed write closes the connection, which ends the reader).
// Markers go out as "<end>", not HTML-escaped as "\u003cend\u003e", so
// that even a client matching the raw text finds them.
func (st *sonioxStream) send(v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		st.log.Error("emulate: encoding message", "err", err)
		return
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if err := st.conn.Write(ctx, websocket.MessageText, b); err != nil {
		st.log.Debug("emulate: write failed", "err", err)
	}
}
