package testrig

import (
	"net/http/httptest"
	"strings"
	"testing"

	"earshot/emulate"
)

// StartSonioxEmulator serves an emulator speaking Soniox's real-time
// protocol (cfg.Protocol is set to emulate.ProtocolSoniox) that requires
// UpstreamKey ("Authorization: Bearer <key>"), and returns it with its
// listen URL (ws://127.0.0.1:port/transcribe-websocket). As with
// StartEmulator, the test's cleanup closes the emulator, then its HTTP
// server.
func StartSonioxEmulator(tb testing.TB, cfg emulate.Config) (*emulate.Server, string) {
	tb.Helper()
	cfg.Protocol = emulate.ProtocolSoniox
	cfg.APIKey = UpstreamKey
	emu, err := emulate.NewServer(cfg, Quiet())
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(emu.Handler())
	tb.Cleanup(func() {
		_ = emu.Close()
		hs.Close()
	})
	return emu, "ws" + strings.TrimPrefix(hs.URL, "http") + emulate.SonioxPath
}
