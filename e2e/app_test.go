package e2e_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/auth"
	"earshot/emulate"
	"earshot/internal/authtest"
	"earshot/internal/packets"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/protocol"
)

// appQuery is the query string the Omi app sends (its ListenRequest as of
// 2026-08), for a device streaming 10 ms Opus packets at 16 kHz.
const appQuery = "language=en&sample_rate=16000&codec=opus&channels=1&include_speech_profile=true" +
	"&conversation_timeout=120&source=omi&uid=firebase-user-1&stt_service=soniox&custom_stt=disabled" +
	"&onboarding=disabled&speaker_auto_assign=disabled&create_speakers=true&call_id=c-1" +
	"&client_conversation_id=conv-1"

// appGateway starts a gateway in front of an emulator with faults f that
// signs users in with a Firebase-like issuer whose keys it fetches from
// a JWKS endpoint, as `serve --auth-issuer ... --auth-jwks-url ...` does.
func appGateway(t *testing.T, f emulate.Faults) (*authtest.Issuer, *emulate.Server, string) {
	t.Helper()
	is := authtest.New(t, "omi-test")
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(is.JWKS(t))
	}))
	t.Cleanup(jwks.Close)
	v, err := auth.New(auth.Config{Issuer: is.Issuer, Audience: is.Audience, JWKSURL: jwks.URL}, auth.Deps{})
	td.Require(t).CmpNoError(err)
	t.Cleanup(func() { _ = v.Close() })
	emu, dgURL := startEmulator(t, emulate.Config{Faults: f})
	_, url := testrig.StartGatewayWith(t, dgURL, pipeline.Config{}, pipeline.Deps{Tokens: v})
	return is, emu, url
}

// appSession is what an app session saw: its JSON events in order, the
// segments, and the close.
type appSession struct {
	events   []protocol.Event
	segments int
	code     websocket.StatusCode
	reason   string
}

// runApp dials url with the app's query and token, sends pkts one frame
// each, closes normally once they are sent, and reads until the gateway
// closes.
func runApp(t *testing.T, url, token string, pkts [][]byte) appSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url+"?"+appQuery, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + token}},
	})
	td.Require(t).CmpNoError(err)
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	go func() {
		for _, p := range pkts {
			if c.Write(ctx, websocket.MessageBinary, p) != nil {
				return
			}
		}
		// Let the last words come back before leaving.
		timer := time.NewTimer(2 * time.Second)
		defer timer.Stop()
		select {
		case <-timer.C:
			_ = c.Close(websocket.StatusNormalClosure, "")
		case <-ctx.Done():
		}
	}()
	var s appSession
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			s.code = websocket.CloseStatus(err)
			var ce websocket.CloseError
			if td.CmpTrue(t, errors.As(err, &ce), "closed with a close frame: %v", err) {
				s.reason = ce.Reason
			}
			return s
		}
		segs, ev, err := protocol.Decode(b)
		if err != nil {
			continue // the ping
		}
		if ev.Type != "" {
			s.events = append(s.events, ev)
		}
		s.segments += len(segs)
	}
}

// TestTheOmiAppsSession: the app's exact URL with a Firebase-style signed
// token streams Opus packets and gets ready with the provider and
// segments; when the provider refuses for good (402) it gets stt_failed,
// then 1011 transcription_service_unavailable; an expired token closes
// with 4001 before the upstream sees any connection.
func TestTheOmiAppsSession(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(codecDir, "opus-celt10-demo.pkt"))
	td.Require(t).CmpNoError(err)
	pkts, err := packets.Parse(b)
	td.Require(t).CmpNoError(err)

	t.Run("served", func(t *testing.T) {
		is, emu, url := appGateway(t, emulate.Faults{})
		s := runApp(t, url, is.Token(t, "firebase-user-1", time.Hour, nil), pkts)
		td.Cmp(t, s.code, websocket.StatusNormalClosure, s.reason)
		td.Cmp(t, s.events, td.SuperBagOf(
			td.Struct(protocol.Event{Type: protocol.TypeServiceStatus, Status: protocol.StatusReady, Provider: "deepgram"}, nil)))
		td.Cmp(t, s.segments, td.Gt(0), "segments came back")
		td.Cmp(t, emu.Stats().Accepted, int64(1))
	})
	t.Run("provider refuses for good", func(t *testing.T) {
		is, emu, url := appGateway(t, emulate.Faults{RefuseFirst: 100, RefuseStatus: 402})
		s := runApp(t, url, is.Token(t, "firebase-user-1", time.Hour, nil), pkts)
		td.Require(t).Gt(len(s.events), 0)
		last := s.events[len(s.events)-1]
		td.Cmp(t, last, td.SStruct(protocol.Event{
			Type: protocol.TypeServiceStatus, Status: protocol.StatusSTTFailed, Provider: "deepgram",
			Outcome: protocol.OutcomeConfigError, Reason: protocol.FailedInitialization,
		}, td.StructFields{"Retryable": td.Ptr(false), "RetryAfterSec": td.Nil(), "StatusText": td.NotEmpty()}))
		td.Cmp(t, s.code, websocket.StatusInternalError)
		td.Cmp(t, s.reason, protocol.CloseReasonSTTUnavailable)
		td.Cmp(t, emu.Stats().UpgradeAttempts, int64(1), "a permanent refusal is not retried")
	})
	t.Run("expired token", func(t *testing.T) {
		is, emu, url := appGateway(t, emulate.Faults{})
		s := runApp(t, url, is.Token(t, "firebase-user-1", -time.Hour, nil), nil)
		td.Cmp(t, s.code, websocket.StatusCode(protocol.CloseTokenExpired))
		td.Cmp(t, s.events, td.Empty())
		td.Cmp(t, emu.Stats().UpgradeAttempts, int64(0), "the emulator sees no connection")
	})
}

// TestWebListenOverRealSockets: a browser's session on /v4/web/listen over
// loopback TCP: the first message's token is accepted and the session
// transcribes; a wrong one is answered false and closed with 1008; no
// message in time closes with 1008 "Auth timeout"; the emulator sees only
// the accepted session.
func TestWebListenOverRealSockets(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(codecDir, "opus-celt10-fox.pkt"))
	td.Require(t).CmpNoError(err)
	pkts, err := packets.Parse(b)
	td.Require(t).CmpNoError(err)
	emu, dgURL := startEmulator(t, emulate.Config{})
	_, url := startGateway(t, dgURL, pipeline.Config{AuthTimeoutMs: 300})
	webURL := strings.Replace(url, "/v4/listen", "/v4/web/listen", 1) + "?sample_rate=16000&codec=opus"
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	dial := func(t *testing.T, first string) *websocket.Conn {
		t.Helper()
		c, _, err := websocket.Dial(ctx, webURL, nil)
		td.Require(t).CmpNoError(err)
		t.Cleanup(func() { _ = c.CloseNow() })
		if first != "" {
			td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageText, []byte(first)))
		}
		return c
	}
	answer := func(t *testing.T, c *websocket.Conn) string {
		t.Helper()
		_, b, err := c.Read(ctx)
		td.Require(t).CmpNoError(err)
		return string(b)
	}
	closeOf := func(c *websocket.Conn) (websocket.StatusCode, string) {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				var ce websocket.CloseError
				errors.As(err, &ce)
				return websocket.CloseStatus(err), ce.Reason
			}
		}
	}

	t.Run("accepted", func(t *testing.T) {
		c := dial(t, `{"type":"auth","token":"`+clientKey+`"}`)
		td.Cmp(t, answer(t, c), `{"type":"auth_response","success":true}`)
		for _, p := range pkts {
			td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageBinary, p))
		}
		segments := 0
		for segments == 0 {
			_, b, err := c.Read(ctx)
			td.Require(t).CmpNoError(err)
			segs, _, _ := protocol.Decode(b)
			segments += len(segs)
		}
		td.CmpNoError(t, c.Close(websocket.StatusNormalClosure, ""))
	})
	t.Run("wrong key", func(t *testing.T) {
		c := dial(t, `{"type":"auth","token":"wrong"}`)
		td.Cmp(t, answer(t, c), `{"type":"auth_response","success":false}`)
		code, reason := closeOf(c)
		td.Cmp(t, code, websocket.StatusPolicyViolation)
		td.Cmp(t, reason, "Invalid authorization token")
	})
	t.Run("timeout", func(t *testing.T) {
		c := dial(t, "")
		code, reason := closeOf(c)
		td.Cmp(t, code, websocket.StatusPolicyViolation)
		td.Cmp(t, reason, "Auth timeout")
	})
	td.Cmp(t, emu.Stats().UpgradeAttempts, int64(1), "only the accepted session reached the upstream")
}
