package emulate

import (
	"log/slog"
	"net/url"
	"time"

	"github.com/coder/websocket"
)

// Close reasons the emulator sends. Each fits the 123-byte limit of a close
// frame's reason.
const (
	// ReasonIdle is Deepgram's NET-0001 reason, sent with 1011 after
	// IdleTimeoutMs without a frame.
	ReasonIdle = "Deepgram did not receive audio data or a text message within the timeout window. See https://dpgr.am/net0001"
	// ReasonDropped is sent with 1011 when Faults.DropAfterMs fires (not
	// abrupt).
	ReasonDropped = "NET-0000: the emulator dropped the stream (fault injection). See https://dpgr.am/net0000"
	// ReasonShutdown is sent with 1001 when the Server closes.
	ReasonShutdown = "server shutting down"
)

// frame is one data message from the client.
type frame struct {
	typ  websocket.MessageType
	data []byte
}

// stream is one accepted connection. Its fields belong to the goroutine
// that calls run, except readErr (written by the reader goroutine before it
// closes its channel).
type stream struct {
	conn   *websocket.Conn
	log    *slog.Logger
	idle   time.Duration
	faults Faults
	stop   <-chan struct{} // closed when the Server closes

	id    string
	p     streamParams
	form  wordForm // from p and rec: how words are written
	model model
	rec   Recognizer
	sum   StreamSummary

	odd      []byte // a trailing odd byte carried to the next binary frame
	samples  int64  // whole samples received
	finalEnd int64  // end of the last final Results, in samples
	readErr  error
}

// newStream serves conn with rec, which the caller closes after run.
func newStream(s *Server, conn *websocket.Conn, id string, q url.Values, p streamParams, rec Recognizer, log *slog.Logger) *stream {
	faults := s.cfg.Faults
	if n := s.opened.Add(1); faults.DropStreams > 0 && n > int64(faults.DropStreams) {
		faults.DropAfterMs = 0 // past the streams that drop
	}
	return &stream{
		conn:   conn,
		log:    log,
		idle:   ms(s.cfg.IdleTimeoutMs),
		faults: faults,
		stop:   s.stop,
		id:     id,
		p:      p,
		form:   formFor(p, rec),
		model:  newModel(p.model),
		rec:    rec,
		sum:    StreamSummary{ID: id, Params: q, Opened: time.Now()},
	}
}

// run serves the stream until it ends and returns how it ended (an End*
// constant), with the connection closed and the reader goroutine gone
// (serveFrames).
func (st *stream) run() (end string) {
	return serveFrames(st.conn, st.log, st.idle, st.faults, st.stop, &st.readErr, st.handle, streamEnds{
		idle:     func() { st.serverClose(websocket.StatusInternalError, ReasonIdle) },
		drop:     func() { st.serverClose(websocket.StatusInternalError, ReasonDropped) },
		shutdown: func() { st.serverClose(websocket.StatusGoingAway, ReasonShutdown) },
	})
}
