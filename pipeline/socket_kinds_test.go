package pipeline_test

import (
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/pipeline"
	"earshot/protocol"
	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/retry"
	"earshot/stages/stagestest"
)

// socketKinds are the session graphs whose upstream sockets go through
// the connector stage: the main socket, every channel socket of a
// two-channel session, and a speech-profile session's main and temporary
// sockets.
var socketKinds = []struct {
	name    string
	query   string
	sockets int
	profile bool
}{
	{"main", "sample_rate=16000&codec=pcm16", 1, false},
	{"two channels", "sample_rate=16000&codec=pcm16&channels=2", 2, false},
	{"speech profile", "sample_rate=16000&codec=pcm16&uid=u-1", 2, true},
}

// kindGateway is a gateway whose connectors retry quickly: 2 dials, 100
// to 400 ms apart (two sockets' failures, 4, stay under the breaker's 5);
// with profile, user u-1 has a speech profile.
func kindGateway(t *testing.T, profile bool) *gateway {
	t.Helper()
	cfg := pipeline.Config{Connector: connector.Config{
		Backoff: retry.BackoffConfig{BaseMs: 100, CapMs: 400, Attempts: 2},
	}}
	if profile {
		cfg.ProfilesDir, cfg.ProfilePrefixMs = t.TempDir(), 1000
		writeWAV(t, filepath.Join(cfg.ProfilesDir, "u-1.wav"), 16000, stagestest.PCM(0, 8000))
	}
	return newGateway(t, cfg, true)
}

var unavailable = &stages.UpstreamError{HTTPStatus: 503, Code: "UNAVAILABLE"}

// TestSocketKindsConnectorBehaviours runs the connector's pinned
// behaviours (first success, retries, abort during a dial, abort between
// retries, exhausted attempts) through each kind of session, over the
// client protocol.
func TestSocketKindsConnectorBehaviours(t *testing.T) {
	for _, kind := range socketKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Run("first success", func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					g := kindGateway(t, kind.profile)
					c := g.dial(t, kind.query, testKey)
					statuses(t, c)
					for range kind.sockets {
						(<-g.p.Dials).Accept(stagestest.NewStream(8))
					}
					td.Cmp(t, next(t, c).Status, protocol.StatusReady)
					synctest.Wait()
					td.Cmp(t, g.p.Count.Load(), int64(kind.sockets), "one dial per socket")
				})
			})
			t.Run("retries", func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					g := kindGateway(t, kind.profile)
					c := g.dial(t, kind.query, testKey)
					statuses(t, c)
					for range kind.sockets {
						(<-g.p.Dials).Refuse(unavailable)
					}
					for range kind.sockets {
						(<-g.p.Dials).Accept(stagestest.NewStream(8))
					}
					td.Cmp(t, next(t, c).Status, protocol.StatusReady)
					td.Cmp(t, g.p.Count.Load(), int64(2*kind.sockets))
				})
			})
			t.Run("client gone during the first dial", func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					g := kindGateway(t, kind.profile)
					c := g.dial(t, kind.query, testKey)
					statuses(t, c)
					var dials []*stagestest.Dial
					for range kind.sockets {
						dials = append(dials, <-g.p.Dials)
					}
					left := time.Now()
					td.CmpNoError(t, c.Close(websocket.StatusNormalClosure, ""))
					for _, d := range dials {
						<-d.Ctx.Done()
					}
					td.Cmp(t, time.Since(left), td.Lt(100*time.Millisecond), "every dial aborted at once")
					synctest.Wait()
					td.Cmp(t, g.srv.Sessions(), 0)
					td.Cmp(t, g.p.Count.Load(), int64(kind.sockets), "no dial after the client left")
				})
			})
			t.Run("client gone between retries", func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					g := kindGateway(t, kind.profile)
					c := g.dial(t, kind.query, testKey)
					statuses(t, c)
					for range kind.sockets {
						(<-g.p.Dials).Refuse(unavailable)
					}
					synctest.Wait() // every connector waits in its backoff
					left := time.Now()
					td.CmpNoError(t, c.Close(websocket.StatusNormalClosure, ""))
					synctest.Wait()
					td.Cmp(t, time.Since(left), td.Lt(100*time.Millisecond), "the backoff waits end at once")
					td.Cmp(t, g.srv.Sessions(), 0)
					td.Cmp(t, g.p.Count.Load(), int64(kind.sockets), "no redial for a client that is gone")
				})
			})
			t.Run("attempts exhausted", func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					g := kindGateway(t, kind.profile)
					c := g.dial(t, kind.query, testKey)
					statuses(t, c)
					for range 2 * kind.sockets {
						(<-g.p.Dials).Refuse(unavailable)
					}
					var failed event
					for failed.Status != protocol.StatusSTTFailed {
						failed = next(t, c)
					}
					td.Cmp(t, failed.Raw, td.SuperJSONOf(`{"outcome":"upstream_error","retryable":true,"reason":"initialization_failed"}`))
					code, reason := closeOf(t, c)
					td.Cmp(t, code, websocket.StatusInternalError)
					td.Cmp(t, reason, protocol.CloseReasonSTTUnavailable)
					td.Cmp(t, g.p.Count.Load(), int64(2*kind.sockets), "two dials per socket")
				})
			})
		})
	}
}
