package ingest

import (
	"context"
	"fmt"
	"sync/atomic"

	"earshot/stages"
)

// Demux splits a multi-channel session's frames by their channel id.
//
// Every binary frame of a multi-channel session is [1-byte channel
// id][payload]. Channel ids are 1-based: 0x01 is the user's microphone,
// 0x02 the remote party (system audio), further ids further channels. A
// Demux sends each payload on to its channel's own stage (an Ingest per
// channel, say), which sees plain codec frames as in a single-channel
// session.
type Demux struct {
	channels int
	m        *Metrics
	skipped  atomic.Int64
}

// NewDemux returns a Demux for a session of channels channels (ids 1 to
// channels); it panics if channels < 1. m may be nil (nothing counted
// server-wide).
func NewDemux(channels int, m *Metrics) *Demux {
	if channels < 1 {
		panic(fmt.Sprintf("ingest: NewDemux with %d channels", channels))
	}
	return &Demux{channels: channels, m: m}
}

// Skipped reports how many frames Run has skipped so far: frames of
// channel id 0, of an id beyond the session's channels, or with no
// payload. It is safe for concurrent use.
func (d *Demux) Skipped() int64 { return d.skipped.Load() }

// Run reads frames from in until it is closed (it returns nil) or ctx is
// done (it returns context.Cause(ctx)), and sends each one's payload on
// its channel: outs[id-1] for channel id. It panics if len(outs) is not
// the channels given to NewDemux.
//
// The payload goes on in the frame's own buffer: Run shifts it down over
// the id byte, so a pooled frame (from stages.NewFrame) keeps its capacity
// stages.FrameBytes and can still be released by whoever ends up with it.
// Frames pass from the sender to Run and from Run to the receiver: the
// sender must not touch a frame after sending it, and Run does not touch
// it after sending it on. A frame with channel id 0, an id beyond
// len(outs), or no payload (empty, or the id alone) is counted (Skipped,
// earshot_demux_skipped_frames_total) and released with
// stages.ReleaseFrame. Payloads of one or two bytes are sent on like any
// other: the channel's Ingest ignores those (MinAudioFrameBytes).
//
// Run owns outs: it closes every one of them when it returns, so that
// closing in (the soft stop) closes each channel's stage in turn. Every
// send also waits on ctx, so a channel whose stage stalls does not keep
// Run from a hard stop; while it waits, the other channels wait too. Runs
// must not overlap (Skipped counts over all of them).
func (d *Demux) Run(ctx context.Context, in <-chan []byte, outs []chan<- []byte) error {
	if len(outs) != d.channels {
		panic(fmt.Sprintf("ingest: Demux of %d channels run with %d outs", d.channels, len(outs)))
	}
	defer func() {
		for _, out := range outs {
			close(out)
		}
	}()
	for {
		frame, ok, err := stages.Recv(ctx, in)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if len(frame) < 2 || frame[0] == 0 || int(frame[0]) > len(outs) {
			d.skipped.Add(1)
			d.m.demuxSkip()
			stages.ReleaseFrame(frame)
			continue
		}
		out := outs[frame[0]-1]
		payload := frame[:copy(frame, frame[1:])]
		if err := stages.Send(ctx, out, payload); err != nil {
			stages.ReleaseFrame(payload)
			return err
		}
	}
}
