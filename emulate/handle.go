package emulate

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/coder/websocket"

	"earshot/stages"
)

// writeTimeout bounds one message write. A client that does not read for
// this long has its connection closed (the library closes a connection whose
// write context expires), and the stream ends as EndClientGone.
const writeTimeout = 5 * time.Second

// handle acts on one client frame. It reports over=true, with how the stream
// ended, when the frame ended the stream.
func (st *stream) handle(f frame) (end string, over bool) {
	if f.typ == websocket.MessageBinary {
		if len(f.data) == 0 {
			// Deepgram historically took an empty binary frame as the end
			// of audio; the emulator answers it like CloseStream.
			st.log.Debug("emulate: empty binary frame, closing like CloseStream")
			return st.closeStream()
		}
		st.audio(f.data)
		return "", false
	}
	c, err := parseControl(f.data)
	if err != nil {
		st.log.Debug("emulate: ignoring text frame", "err", err)
		return "", false
	}
	switch c {
	case stages.ControlKeepAlive:
		st.sum.KeepAlives++
	case stages.ControlFinalize:
		st.sum.Finalizes++
		if !st.faults.Stall {
			st.sendFinal(st.rec.Flush(), st.samples, false, true)
		}
	case stages.ControlCloseStream:
		st.sum.CloseStream = true
		return st.closeStream()
	}
	return "", false
}

// audio counts a binary frame and feeds its whole samples to the recognizer;
// completed words go out at once as an endpoint final (speech_final true)
// that ends at the last word's end.
func (st *stream) audio(data []byte) {
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
	if st.faults.Stall {
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
	end := int64(math.Round(endSec * float64(st.p.sampleRateHz)))
	st.sendFinal(words, min(max(end, st.finalEnd), st.samples), true, false)
}

// closeStream answers CloseStream: a flushed final Results covering the rest
// of the audio, one Metadata, then close 1000. While stalled it answers
// nothing and the stream stays open.
func (st *stream) closeStream() (end string, over bool) {
	if st.faults.Stall {
		return "", false
	}
	st.sendFinal(st.rec.Flush(), st.samples, false, false)
	st.send(newMetadata(st.id, st.model, st.sum.Opened, st.samples, st.p.sampleRateHz))
	if err := st.conn.Close(websocket.StatusNormalClosure, ""); err != nil {
		st.log.Debug("emulate: close handshake", "err", err)
	}
	return EndCloseStream, true
}

// sendFinal sends a final Results for the audio from the previous final's
// end to end (samples), so finals are contiguous.
func (st *stream) sendFinal(words []stages.Word, end int64, speechFinal, fromFinalize bool) {
	sp := span{start: st.finalEnd, end: end}
	st.finalEnd = end
	st.send(newResults(st.id, st.model, st.p, st.form, sp, words, speechFinal, fromFinalize))
}

// serverClose ends the stream from the server side: Metadata (unless
// stalled), then a close frame with code and reason.
func (st *stream) serverClose(code websocket.StatusCode, reason string) {
	if !st.faults.Stall {
		st.send(newMetadata(st.id, st.model, st.sum.Opened, st.samples, st.p.sampleRateHz))
	}
	if err := st.conn.Close(code, reason); err != nil {
		st.log.Debug("emulate: close handshake", "err", err)
	}
}

// send writes one JSON text message. A failed write closes the connection
// (library behaviour), so the reader ends the stream; send only logs.
func (st *stream) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		st.log.Error("emulate: encoding message", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if err := st.conn.Write(ctx, websocket.MessageText, b); err != nil {
		st.log.Debug("emulate: write failed", "err", err)
	}
}
