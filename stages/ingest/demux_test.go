package ingest_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/ingest"
	"earshot/stages/stagestest"
)

// demuxOuts returns n channels of buffer size each, as Run takes them and
// as the test reads them.
func demuxOuts(n, size int) ([]chan<- []byte, []<-chan []byte) {
	send := make([]chan<- []byte, n)
	recv := make([]<-chan []byte, n)
	for i := range n {
		ch := make(chan []byte, size)
		send[i], recv[i] = ch, ch
	}
	return send, recv
}

// drain returns what is left on ch, which must be closed.
func drain(t *testing.T, ch <-chan []byte) [][]byte {
	t.Helper()
	var got [][]byte
	for {
		select {
		case f, ok := <-ch:
			if !ok {
				return got
			}
			got = append(got, f)
		default:
			t.Fatal("out not closed")
			return got
		}
	}
}

// TestDemuxSplitsByChannel: each channel's frames come out on its own out,
// in order, without the id byte and byte for byte; a pooled frame stays a
// whole pooled buffer; frames of id 0, of an id beyond the channels, and
// with no payload are skipped and counted; closing in closes every out.
func TestDemuxSplitsByChannel(t *testing.T) {
	set := metrics.NewSet()
	d := ingest.NewDemux(2, ingest.NewMetrics(set))

	mic := stagestest.PCM(0, 80)
	remote := stagestest.PCM(1000, 80)
	pooled := append(stages.NewFrame(), 0x02)
	pooled = append(pooled, stagestest.PCM(2000, 1600)...)
	frames := [][]byte{
		append([]byte{0x01}, mic[:60]...),
		append([]byte{0x02}, remote[:100]...),
		append([]byte{0x00}, mic...), // id 0
		append([]byte{0x01}, mic[60:]...),
		append([]byte{0x03}, mic...), // beyond 2 channels
		{0x01},                       // no payload
		{},                           // nothing at all
		append([]byte{0x02}, remote[100:]...),
		pooled,
		{0x02, 0xAB}, // one byte is still a payload
	}
	in := make(chan []byte, len(frames))
	for _, f := range frames {
		in <- f
	}
	close(in)
	send, recv := demuxOuts(2, len(frames))

	td.CmpNoError(t, d.Run(context.Background(), in, send))

	got1, got2 := drain(t, recv[0]), drain(t, recv[1])
	td.Cmp(t, got1, [][]byte{mic[:60], mic[60:]}, "the microphone, in order")
	td.Cmp(t, got2, [][]byte{remote[:100], remote[100:], stagestest.PCM(2000, 1600), {0xAB}}, "the remote party, in order")
	td.Cmp(t, cap(got2[2]), stages.FrameBytes, "the pooled buffer goes on whole")
	td.CmpTrue(t, &got2[2][0] == &pooled[0], "in the same buffer")
	td.Cmp(t, d.Skipped(), int64(4))
	td.Cmp(t, stagestest.MetricValue(t, set, "earshot_demux_skipped_frames_total"), 4.0)
}

// TestDemuxClosesEveryOut: the soft stop reaches every channel, even one
// that never had a frame.
func TestDemuxClosesEveryOut(t *testing.T) {
	in := make(chan []byte, 1)
	in <- []byte{0x01, 1, 2, 3}
	close(in)
	send, recv := demuxOuts(3, 1)
	td.CmpNoError(t, ingest.NewDemux(3, nil).Run(context.Background(), in, send))
	td.Cmp(t, drain(t, recv[0]), [][]byte{{1, 2, 3}})
	td.CmpNil(t, drain(t, recv[1]))
	td.CmpNil(t, drain(t, recv[2]))
}

// TestDemuxHardStopWhileBlocked: with a channel's stage not reading, a
// cancelled ctx ends Run at once with its cause, and every out is closed.
func TestDemuxHardStopWhileBlocked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stop := errors.New("session over")
		ctx, cancel := context.WithCancelCause(t.Context())
		in := make(chan []byte)
		send, recv := demuxOuts(2, 0)
		d := ingest.NewDemux(2, nil)
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx, in, send) }()

		in <- []byte{0x02, 1, 2}
		synctest.Wait()       // Run is blocked on outs[1], which nobody reads
		time.Sleep(time.Hour) // and stays blocked
		td.Cmp(t, len(done), 0, "still blocked")
		cancel(stop)
		td.Cmp(t, stagestest.Next(t, done), stop)
		for i, ch := range recv {
			_, open := <-ch
			td.CmpFalse(t, open, "out %d closed", i)
		}
	})
}

// TestDemuxHardStopWhileReading: a cancelled ctx also ends Run while it
// waits for a frame.
func TestDemuxHardStopWhileReading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		send, recv := demuxOuts(1, 0)
		done := make(chan error, 1)
		go func() { done <- ingest.NewDemux(1, nil).Run(ctx, make(chan []byte), send) }()
		synctest.Wait()
		cancel()
		td.CmpTrue(t, errors.Is(stagestest.Next(t, done), context.Canceled))
		_, open := <-recv[0]
		td.CmpFalse(t, open)
	})
}

// TestDemuxOutsMustMatchChannels: a wiring mistake panics at once.
func TestDemuxOutsMustMatchChannels(t *testing.T) {
	send, _ := demuxOuts(1, 0)
	td.CmpPanic(t, func() { _ = ingest.NewDemux(2, nil).Run(context.Background(), make(chan []byte), send) },
		td.Contains("2 channels run with 1 outs"))
	td.CmpPanic(t, func() { ingest.NewDemux(0, nil) }, td.Contains("0 channels"))
}
