package connector_test

import (
	"testing"
	"testing/synctest"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/stagestest"
)

// TestConnectorCoalescesABacklog: audio that queued in the ring while the
// stream was dialing goes out in messages of at most MessageMaxMs, in
// order and whole; the results' times still map onto the capture clock,
// across a gap the gate left.
func TestConnectorCoalescesABacklog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{MessageMaxMs: 250})
		h.next(t)
		d := <-h.p.Dials
		for i := range 10 { // 20 ms frames: 200 ms, then a gap, then 100 ms
			h.in <- frame(i*320, 320)
		}
		for i := range 5 {
			h.in <- frame(8000+i*320, 320)
		}
		synctest.Wait()
		s := stagestest.NewStream(32)
		d.Accept(s)
		h.next(t)
		var got [][]byte
		for total := 0; total < 2*15*320; {
			m := <-s.Audio
			got = append(got, m)
			total += len(m)
		}
		td.Cmp(t, got, td.All(td.Len(2), td.ArrayEach(td.Len(td.Lte(2*4000)))), "250 ms at most: 12 frames, then 3")
		want := append(stagestest.PCM(0, 3200), stagestest.PCM(8000, 1600)...)
		td.Cmp(t, append(got[0], got[1]...), want, "every sample, in order")

		s.Push(stages.Result{IsFinal: true, DurationSec: 0.3, Words: []stages.Word{
			{Word: "before", StartSec: 0.1, EndSec: 0.15}, {Word: "after", StartSec: 0.25, EndSec: 0.28},
		}})
		u := h.next(t)
		td.Cmp(t, u.Result.Words, td.Bag(
			td.SStruct(stages.Word{Word: "before"}, td.StructFields{"StartSec": td.N(0.1, 1e-9), "EndSec": td.N(0.15, 1e-9)}),
			td.SStruct(stages.Word{Word: "after"}, td.StructFields{"StartSec": td.N(0.55, 1e-9), "EndSec": td.N(0.58, 1e-9)}),
		), "after the gap: 0.2 s of provider time is 0.5 s of capture time")
		close(h.in)
		endOnCloseStream(s)
		td.CmpNoError(t, <-h.err)
	})
}

// TestConnectorSendsALoneFrameAtOnce: with coalescing on, a frame that
// arrives on its own goes at once, as it is; frames that queued behind
// each other in the input (the connector's goroutine was busy) leave
// together.
func TestConnectorSendsALoneFrameAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startConnector(t, t.Context(), connector.Config{MessageMaxMs: connector.DefaultMessageMaxMs})
		h.next(t)
		s := stagestest.NewStream(32)
		(<-h.p.Dials).Accept(s)
		h.next(t)
		h.in <- frame(0, 320)
		td.Cmp(t, <-s.Audio, stagestest.PCM(0, 320), "alone, not held back")
		synctest.Wait()
		for i := 1; i <= 4; i++ { // queued before the connector runs again
			h.in <- frame(i*320, 320)
		}
		synctest.Wait()
		td.Cmp(t, len(s.Audio), 1, "one message for the four")
		td.Cmp(t, <-s.Audio, stagestest.PCM(320, 4*320))
		close(h.in)
		endOnCloseStream(s)
		td.CmpNoError(t, <-h.err)
	})
}
