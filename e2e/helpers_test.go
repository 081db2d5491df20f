package e2e_test

import (
	"testing"
	"time"

	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/stages/local"
)

const (
	clientKey   = testrig.ClientKey
	upstreamKey = testrig.UpstreamKey
)

var (
	startEmulator = testrig.StartEmulator
	startGateway  = func(t *testing.T, dgURL string, cfg pipeline.Config) (*pipeline.Server, string) {
		t.Helper()
		return testrig.StartGateway(t, dgURL, cfg)
	}
)

type client = testrig.Client

var (
	dialClient   = testrig.Dial
	conversation = testrig.Conversation
)

// waitIdle waits until every decoder of p is back in its pool. The
// emulator releases a stream's decoder only after its close handshake,
// which can end after the gateway has closed the client; a session
// started before that would find a pool of one busy, be refused with 429,
// and spend its short WaitFinal in the gateway's backoff.
func waitIdle(t *testing.T, p *local.Provider) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		if busy, _ := p.Decoders(); busy == 0 {
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			busy, total := p.Decoders()
			t.Fatalf("local decoders still busy after 10 s: %d of %d", busy, total)
		}
	}
}
