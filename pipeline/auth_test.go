package pipeline_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/maxatome/go-testdeep/td"

	"earshot/auth"
	"earshot/internal/authtest"
	"earshot/pipeline"
	"earshot/stages/stagestest"
)

// signedGateway is a gateway that also accepts the tokens of a test
// issuer (its keys from a JWKS file).
func signedGateway(t *testing.T, cfg pipeline.Config, mem bool) (*gateway, *authtest.Issuer) {
	t.Helper()
	is := authtest.New(t, "earshot-test")
	v, err := auth.New(auth.Config{Issuer: is.Issuer, Audience: is.Audience, JWKSFile: is.JWKSFile(t)}, auth.Deps{})
	td.Require(t).CmpNoError(err)
	t.Cleanup(func() { _ = v.Close() })
	return newGatewayWith(t, cfg, pipeline.Deps{Tokens: v}, mem), is
}

// TestListenAcceptsASignedToken: a token from the configured issuer opens
// a session like a static key, and the user is counted under its own
// per-user limit.
func TestListenAcceptsASignedToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, is := signedGateway(t, pipeline.Config{MaxSessionsPerKey: 1}, true)
		tok := is.Token(t, "user-1", time.Hour, nil)
		c := g.dial(t, "sample_rate=16000&codec=pcm16&uid=someone-else", tok)
		statuses(t, c)
		(<-g.p.Dials).Accept(stagestest.NewStream(8))
		td.Cmp(t, next(t, c).Raw, td.JSON(`{"type":"service_status","status":"ready","provider":"fake"}`))

		// The same user's second session is over its limit; another
		// user's is not.
		c2 := g.dial(t, "", tok)
		code, _ := closeOf(t, c2)
		td.Cmp(t, code, websocket.StatusTryAgainLater)
		c3 := g.dial(t, "", is.Token(t, "user-2", time.Hour, nil))
		statuses(t, c3)
		<-g.p.Dials // user-2's session dials
		td.Cmp(t, g.p.Count.Load(), int64(2), "user-1's first session and user-2's dialed; user-1's second did not")
	})
}

// TestListenRefusesBadTokensBeforeAnyDial: an expired token closes with
// 4001 (the app refreshes it and reconnects), any other bad token with
// 1008, before any upstream work.
func TestListenRefusesBadTokensBeforeAnyDial(t *testing.T) {
	g, is := signedGateway(t, pipeline.Config{}, false)
	other := authtest.New(t, "earshot-test") // same names, another key
	for _, tc := range []struct {
		name, token string
		code        websocket.StatusCode
		reason      string
	}{
		{"expired", is.Token(t, "u", -time.Hour, nil), 4001, "Token expired"},
		{"wrong issuer", is.Token(t, "u", time.Hour, func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }),
			websocket.StatusPolicyViolation, "Invalid authorization token"},
		{"wrong audience", is.Token(t, "u", time.Hour, func(c jwt.MapClaims) { c["aud"] = "other-project" }),
			websocket.StatusPolicyViolation, "Invalid authorization token"},
		{"another key", other.Token(t, "u", time.Hour, nil), websocket.StatusPolicyViolation, "Invalid authorization token"},
		{"alg none", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1In0.c2ln", websocket.StatusPolicyViolation,
			"Invalid authorization token"},
		{"garbage", "a.b.c", websocket.StatusPolicyViolation, "Invalid authorization token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := g.dial(t, "", tc.token)
			code, reason := closeOf(t, c)
			td.Cmp(t, code, tc.code)
			td.Cmp(t, reason, tc.reason)
		})
	}
	td.Cmp(t, g.p.Count.Load(), int64(0), "no upstream dial")
	td.Cmp(t, stagestest.MetricValue(t, g.set, `earshot_sessions_closed_total{code="4001"}`), 1.0)
}

// webDial opens /v4/web/listen with the given Origin ("" for none).
func (g *gateway) webDial(t *testing.T, query, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	u := strings.Replace(g.base, "/v4/listen", "/v4/web/listen", 1)
	if query != "" {
		u += "?" + query
	}
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	c, resp, err := websocket.Dial(context.Background(), u, &websocket.DialOptions{HTTPClient: g.client, HTTPHeader: h})
	if err == nil {
		t.Cleanup(func() { _ = c.CloseNow() })
	}
	return c, resp, err
}

// TestWebListenAuthenticatesWithTheFirstMessage: a browser's first
// message carries its key or token; it is answered, and then the session
// is the /v4/listen one.
func TestWebListenAuthenticatesWithTheFirstMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, is := signedGateway(t, pipeline.Config{}, true)
		ctx := context.Background()
		for _, token := range []string{testKey, is.Token(t, "browser-user", time.Hour, nil)} {
			c, _, err := g.webDial(t, "sample_rate=16000&codec=pcm16", "")
			td.Require(t).CmpNoError(err)
			td.CmpNoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"type":"auth","token":"`+token+`"}`)))
			td.Cmp(t, next(t, c).Raw, td.JSON(`{"type":"auth_response","success":true}`))
			td.Cmp(t, statuses(t, c), []string{"initiating", "in_progress_conversations_processing", "stt_initiating"})
			(<-g.p.Dials).Accept(stagestest.NewStream(8))
			td.Cmp(t, next(t, c).Status, "ready")
			td.CmpNoError(t, c.Close(websocket.StatusNormalClosure, ""))
		}
		td.Cmp(t, stagestest.MetricValue(t, g.set, `earshot_client_messages_total{type="auth"}`), 2.0)
	})
}

// TestWebListenRefusesWrongAuth: a wrong key, an expired token, or a
// first message that is not an auth message is answered with success
// false and closed (1008, or 4001), with no upstream dial.
func TestWebListenRefusesWrongAuth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, is := signedGateway(t, pipeline.Config{}, true)
		ctx := context.Background()
		for _, tc := range []struct {
			first string
			code  websocket.StatusCode
		}{
			{`{"type":"auth","token":"wrong-key"}`, websocket.StatusPolicyViolation},
			{`{"type":"auth","token":"` + is.Token(t, "u", -time.Hour, nil) + `"}`, 4001},
			{`{"type":"speaker_assigned","speaker_id":1}`, websocket.StatusPolicyViolation},
			{`not json`, websocket.StatusPolicyViolation},
		} {
			c, _, err := g.webDial(t, "", "")
			td.Require(t).CmpNoError(err)
			td.CmpNoError(t, c.Write(ctx, websocket.MessageText, []byte(tc.first)))
			td.Cmp(t, next(t, c).Raw, td.JSON(`{"type":"auth_response","success":false}`), tc.first)
			code, _ := closeOf(t, c)
			td.Cmp(t, code, tc.code, tc.first)
		}
		td.Cmp(t, g.p.Count.Load(), int64(0), "no upstream dial")
	})
}

// TestWebListenAuthTimeout: no auth message within 5 s closes with 1008
// "Auth timeout".
func TestWebListenAuthTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateway(t, pipeline.Config{}, true)
		c, _, err := g.webDial(t, "", "")
		td.Require(t).CmpNoError(err)
		start := time.Now()
		code, reason := closeOf(t, c)
		td.Cmp(t, code, websocket.StatusPolicyViolation)
		td.Cmp(t, reason, "Auth timeout")
		td.Cmp(t, time.Since(start), 5*time.Second)
		td.Cmp(t, g.p.Count.Load(), int64(0))
	})
}

// TestWebListenChecksTheOrigin: a browser page from another origin is
// refused before the upgrade unless it is allowed.
func TestWebListenChecksTheOrigin(t *testing.T) {
	g := newGateway(t, pipeline.Config{AllowedOrigins: []string{"app.example.com"}}, false)
	_, resp, err := g.webDial(t, "", "https://evil.example.com")
	td.Cmp(t, err, td.NotNil())
	td.Require(t).NotNil(resp)
	td.Cmp(t, resp.StatusCode, http.StatusForbidden)
	c, _, err := g.webDial(t, "", "https://app.example.com")
	td.Require(t).CmpNoError(err)
	td.CmpNoError(t, c.Write(context.Background(), websocket.MessageText, []byte(`{"type":"auth","token":"`+testKey+`"}`)))
	td.Cmp(t, next(t, c).Raw, td.JSON(`{"type":"auth_response","success":true}`))
}
