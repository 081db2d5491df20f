package pipeline

import (
	"context"

	"earshot/stages"
)

// readerInput is where the session's reader puts the client's binary
// frames. The reader calls start once on its own goroutine, hands every
// frame to the returned send (which takes the frame over; its error ends
// the reader), and calls end once when it stops: inputEnded true for the
// soft stop (the client left), false for a hard stop or an error. end is
// called even when start failed.
type readerInput func(ctx context.Context) (send func([]byte) error, end func(inputEnded bool), err error)

// chanInput puts the frames on a channel (to the demux of a multi-channel
// session); end closes it, the soft stop flowing down the graph.
func chanInput(frames chan []byte) readerInput {
	return func(ctx context.Context) (func([]byte) error, func(bool), error) {
		send := func(b []byte) error { return stages.Send(ctx, frames, b) }
		return send, func(bool) { close(frames) }, nil
	}
}

// inlineInput decodes and gates a single-channel session's frames on the
// reader's own goroutine, the ingest's Step feeding the gate's Stepper,
// which sends on gated (closed by end): a frame crosses no goroutine
// from the client's socket to the connector's input, and the session
// holds no goroutine for either stage.
func (s *session) inlineInput(c chain, gated chan stages.Audio) readerInput {
	return func(ctx context.Context) (func([]byte) error, func(bool), error) {
		gs := c.gt.Start(ctx, gated)
		is, err := c.ing.Start(gs.Frame)
		end := func(inputEnded bool) {
			if is != nil {
				is.Close()
			}
			gs.Close(inputEnded)
			if s.tap != nil {
				s.tap.ingestDone()
			}
		}
		if err != nil {
			return nil, end, err
		}
		return is.Frame, end, nil
	}
}
