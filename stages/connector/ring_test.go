package connector_test

import (
	"testing"
	"testing/synctest"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/chunks"
	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/stagestest"
)

// TestConnectorRingCopiesIntoChunks: the replay ring keeps its own copy
// of the audio in pool chunks far smaller than the frames and of a size
// no frame divides, so frames span chunks; the sender reusing its buffers
// changes nothing; after a drop the new stream gets exactly the samples no
// final covered, the evicted ones are counted lost, and every chunk is
// given back when the connector returns.
func TestConnectorRingCopiesIntoChunks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := chunks.New(102, 0) // 51 samples a chunk
		// 62 ms of ring at 16 kHz: 992 samples.
		h := startConnectorWith(t, t.Context(), connector.Config{ReplayMaxMs: 62, MinStreamMs: 1},
			func(d *connector.Deps) { d.Chunks = pool })
		h.next(t)
		s1 := stagestest.NewStream(64)
		(<-h.p.Dials).Accept(s1)
		h.next(t)

		buf := make([]byte, 0, 2000)
		send := func(start, n int) {
			buf = append(buf[:0], stagestest.PCM(start, n)...)
			h.in <- stages.Audio{PCM: buf, Start: int64(start), SampleRateHz: rate}
			td.Cmp(t, <-s1.Audio, stagestest.PCM(start, n), "sent as it came")
			for i := range buf { // the sender reuses its buffer
				buf[i] = 0xEE
			}
		}
		sizes := []int{37, 120, 1, 250, 51, 300, 7}
		at := 0
		for _, n := range sizes { // 766 samples
			send(at, n)
			at += n
		}
		// A final covers the first 100 samples.
		s1.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 100.0 / rate})
		td.Cmp(t, h.next(t).Kind, stages.EventResult)
		send(at, 400) // 1066 held, ack dropped 100 first: 966 fit... then 200 more evict
		at += 400
		send(at, 200)
		at += 200
		synctest.Wait()
		td.Cmp(t, pool.Stats().InUse, td.Between(int64(992/51), int64(992/51+2)), "held audio in chunks")

		s1.End(&stages.UpstreamError{CloseCode: 1011})
		td.Cmp(t, h.next(t).Kind, stages.EventDegraded)
		s2 := stagestest.NewStream(64)
		(<-h.p.Dials).Accept(s2)
		td.Cmp(t, h.next(t).Kind, stages.EventRecovered)
		var replay []byte
		for len(replay) < 2*992 {
			replay = append(replay, <-s2.Audio...)
		}
		td.Cmp(t, replay, stagestest.PCM(at-992, 992), "the newest 992 samples, byte for byte")
		td.Cmp(t, h.m.LostSeconds.Get(), td.N(float64(at-992-100)/rate, 1e-9), "evicted and never covered")

		close(h.in)
		endOnCloseStream(s2)
		td.CmpNoError(t, <-h.err)
		td.Cmp(t, pool.Stats().InUse, int64(0), "every chunk given back")
	})
}
