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

// TestConnectorRingsShareTheBudget: two sessions whose upstream is down
// hold audio in one pool with a budget of 16 chunks. The first, alone at
// first, may fill the whole budget; once the second holds audio too, the
// first gives back down to its half at its next frame, the second grows
// to its own half, and neither holds more. The pool never hands out more
// than the budget; what each ring gave up is its own oldest audio,
// counted as lost, and on reconnect each replays exactly its newest.
func TestConnectorRingsShareTheBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const chunkSamples = 512
		pool := chunks.New(2*chunkSamples, 0)
		pool.SetBudget(16 * 2 * chunkSamples)
		cfg := connector.Config{ReplayMaxMs: 60000} // far beyond the budget
		use := func(d *connector.Deps) { d.Chunks = pool }
		a := startConnectorWith(t, t.Context(), cfg, use)
		a.next(t)
		td.Cmp(t, pool.Share(), 16, "alone: the whole budget")

		const frameN = 320
		send := func(h *harness, at *int, frames int) {
			for range frames {
				h.in <- stages.Audio{PCM: stagestest.PCM(*at, frameN), Start: int64(*at), SampleRateHz: rate}
				*at += frameN
			}
			synctest.Wait()
		}
		var atA, atB int
		send(a, &atA, 40) // 12,800 samples: 25 chunks' worth
		td.Cmp(t, pool.Stats().InUse, int64(16), "the budget binds, not ReplayMaxMs")

		b := startConnectorWith(t, t.Context(), cfg, use)
		b.next(t)
		td.Cmp(t, pool.Share(), 8, "halved among the two rings")
		send(b, &atB, 4)
		td.Cmp(t, pool.Stats().InUse, int64(16), "the first still holds the budget: the second keeps only what fits")
		send(a, &atA, 1)
		send(b, &atB, 36)
		send(a, &atA, 1)
		st := pool.Stats()
		td.Cmp(t, st.InUse, td.Between(int64(15), int64(16)), "never past the budget")
		td.Cmp(t, st.Refused, td.Gt(int64(0)), "refusals counted")
		td.Cmp(t, st.Members, int64(2))

		for name, c := range map[string]struct {
			h  *harness
			at int
		}{"first": {a, atA}, "second": {b, atB}} {
			s := stagestest.NewStream(256)
			(<-c.h.p.Dials).Accept(s)
			td.Cmp(t, c.h.next(t).Kind, stages.EventConnected)
			synctest.Wait()
			var got []byte
			for len(s.Audio) > 0 {
				got = append(got, <-s.Audio...)
			}
			held := len(got) / 2
			td.Cmp(t, held, td.Between(7*chunkSamples-frameN, 8*chunkSamples), name+": about its half")
			td.Cmp(t, got, stagestest.PCM(c.at-held, held), name+": its newest audio")
			td.Cmp(t, c.h.m.LostSeconds.Get(), td.N(float64(c.at-held)/rate, 1e-9), name+": the rest counted lost")
			close(c.h.in)
			endOnCloseStream(s)
			td.CmpNoError(t, <-c.h.err)
		}
		td.Cmp(t, pool.Stats().InUse, int64(0), "every chunk given back")
		td.Cmp(t, pool.Stats().Members, int64(0), "both rings left the budget")
	})
}
