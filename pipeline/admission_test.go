package pipeline_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/pipeline"
	"earshot/stages/stagestest"
)

// TestListenRefusesSessionsBeyondTheLimits: beyond MaxSessions, or a
// key's MaxSessionsPerKey, a new session is closed with 1013 and the
// reason before any upstream dial; a session that ends makes room.
func TestListenRefusesSessionsBeyondTheLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateway(t, pipeline.Config{MaxSessions: 3, MaxSessionsPerKey: 2}, true)
		open := func(key string) *websocket.Conn {
			c := g.dial(t, "", key)
			statuses(t, c)
			(<-g.p.Dials).Accept(stagestest.NewStream(64))
			td.Cmp(t, next(t, c).Status, "ready")
			return c
		}
		refused := func(key, why string) {
			c := g.dial(t, "", key)
			code, reason := closeOf(t, c)
			td.Cmp(t, code, websocket.StatusTryAgainLater, why)
			td.Cmp(t, reason, "too many sessions; try again later", why)
		}
		a1 := open(testKey)
		open(testKey)
		refused(testKey, "the key's third session")
		open("other-key")
		refused("other-key", "the server's fourth session")
		td.Cmp(t, g.p.Count.Load(), int64(3), "no dial for the refused ones")
		td.Cmp(t, stagestest.MetricValue(t, g.set, "earshot_sessions_refused_busy_total"), 2.0)
		td.Cmp(t, stagestest.MetricValue(t, g.set, "earshot_sessions_limit"), 3.0)

		_ = a1.Close(websocket.StatusNormalClosure, "")
		time.Sleep(3 * time.Second) // its upstream's close timeout (2 s) passes
		open(testKey)               // room again
	})
}

// TestListenRefusesSessionsBeyondTheReplayBudget: a new session whose
// share of ReplayBudgetBytes would fall below MinReplayShareBytes is
// refused like one beyond MaxSessions, and /metrics shows the budget and
// each ring's share.
func TestListenRefusesSessionsBeyondTheReplayBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateway(t, pipeline.Config{ReplayBudgetBytes: 2*pipeline.MinReplayShareBytes + 100}, true)
		for range 2 {
			c := g.dial(t, "", testKey)
			statuses(t, c)
			(<-g.p.Dials).Accept(stagestest.NewStream(64))
			td.Cmp(t, next(t, c).Status, "ready")
		}
		td.Cmp(t, stagestest.MetricValue(t, g.set, "earshot_replay_budget_bytes"), float64(2*pipeline.MinReplayShareBytes))
		td.Cmp(t, stagestest.MetricValue(t, g.set, "earshot_replay_share_bytes"), float64(pipeline.MinReplayShareBytes))
		c := g.dial(t, "", testKey)
		code, reason := closeOf(t, c)
		td.Cmp(t, code, websocket.StatusTryAgainLater)
		td.Cmp(t, reason, "too many sessions; try again later")
		td.Cmp(t, g.p.Count.Load(), int64(2), "no dial for the refused one")
		td.Cmp(t, stagestest.MetricValue(t, g.set, "earshot_sessions_refused_busy_total"), 1.0)
	})
}

// TestListenReplayBudgetCountsEveryChannel: each channel of a session has
// its own replay ring, so a two-channel session takes two shares of the
// replay budget: with room for three rings, a second two-channel session
// is refused while a single-channel one fits.
func TestListenReplayBudgetCountsEveryChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateway(t, pipeline.Config{ReplayBudgetBytes: 3*pipeline.MinReplayShareBytes + 100}, true)
		c := g.dial(t, "sample_rate=16000&codec=pcm16&channels=2", testKey)
		statuses(t, c)
		for range 2 {
			(<-g.p.Dials).Accept(stagestest.NewStream(64))
		}
		td.Cmp(t, next(t, c).Status, "ready")
		c2 := g.dial(t, "sample_rate=16000&codec=pcm16&channels=2", testKey)
		code, _ := closeOf(t, c2)
		td.Cmp(t, code, websocket.StatusTryAgainLater, "two more rings do not fit")
		c3 := g.dial(t, "sample_rate=16000&codec=pcm16", testKey)
		statuses(t, c3)
		(<-g.p.Dials).Accept(stagestest.NewStream(64))
		td.Cmp(t, next(t, c3).Status, "ready", "one more ring does")
		td.Cmp(t, g.p.Count.Load(), int64(3))
	})
}
