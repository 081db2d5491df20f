package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/authtest"
)

// TestServeSignedTokensOnly: with --auth-issuer, serve starts without any
// static key, loads the issuer's keys, and says so.
func TestServeSignedTokensOnly(t *testing.T) {
	is := authtest.New(t, "p")
	t.Setenv("DEEPGRAM_API_KEY", "x")
	t.Setenv("EARSHOT_API_KEYS", "")
	r := startCmd(t, "serve", runServe, servingAddr, "--vad-gate", "off",
		"--auth-issuer", is.Issuer, "--auth-audience", is.Audience, "--auth-jwks-file", is.JWKSFile(t))
	log, err := r.stop()
	td.CmpNoError(t, err)
	td.Cmp(t, log, td.Re(`msg="signed tokens accepted" issuer=https://securetoken\.google\.com/p audience=p keys=1\n`))
}

func TestServeAuthFlagsNeedAnIssuer(t *testing.T) {
	t.Setenv("EARSHOT_API_KEYS", "k")
	t.Setenv("DEEPGRAM_API_KEY", "x")
	var stderr bytes.Buffer
	err := runServe(context.Background(), []string{"--vad-gate", "off", "--auth-audience", "p"}, &stderr)
	td.Cmp(t, err, td.String("--auth-audience, --auth-jwks-url and --auth-jwks-file need --auth-issuer"))

	t.Setenv("EARSHOT_API_KEYS", "")
	err = runServe(context.Background(), []string{"--vad-gate", "off"}, &stderr)
	td.Cmp(t, err, td.Contains("no client keys"))

	err = runServe(context.Background(), []string{"--vad-gate", "off", "--auth-issuer", "https://i", "--auth-audience", "p"}, &stderr)
	td.Cmp(t, err, td.String("--auth-issuer needs --auth-audience and one of --auth-jwks-url or --auth-jwks-file"))
}
