package e2e_test

import (
	"testing"

	"earshot/internal/testrig"
	"earshot/pipeline"
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
