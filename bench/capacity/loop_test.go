package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/pipeline"
	"earshot/stages/deepgram"
)

// loopback runs a short load through target (whose upstream is up) and
// returns what the load generator and the upstream measured.
func loopback(t *testing.T, upSrv *httptest.Server, targetURL string) (loadResult, upstreamReport) {
	t.Helper()
	conv, err := loadConversation("../../fixtures/speech-synth/demo-16k.wav", 25)
	td.Require(t).CmpNoError(err)
	start := time.Now().Add(50 * time.Millisecond)
	from := start.Add(400 * time.Millisecond)
	to := from.Add(1500 * time.Millisecond)
	lr := runLoad(loadSpec{
		URL: "ws" + strings.TrimPrefix(targetURL, "http") + "/v4/listen?language=en&sample_rate=16000&codec=pcm16",
		Key: clientKey, Sessions: 3, Start: start, Ramp: 100 * time.Millisecond, Audio: conv.PCM,
		Stop: to.Add(2 * time.Second), From: from.UnixNano(), To: to.UnixNano(),
	})
	resp, err := http.Get(upSrv.URL + "/report?wait_ms=5000&from=" + strconv.FormatInt(from.UnixNano(), 10) +
		"&to=" + strconv.FormatInt(to.UnixNano(), 10))
	td.Require(t).CmpNoError(err)
	defer resp.Body.Close()
	var rep upstreamReport
	td.Require(t).CmpNoError(json.NewDecoder(resp.Body).Decode(&rep))
	return lr, rep
}

func checkLoop(t *testing.T, lr loadResult, rep upstreamReport, minResultMs float64) {
	t.Helper()
	td.Cmp(t, lr.Failed, 0, "failures: %v", lr.Failures)
	td.Cmp(t, lr.Sent, td.Between(3*10, 3*16), "3 sessions, 1.5 s of 100 ms frames (fewer on a loaded machine)")
	td.Cmp(t, rep.Frames, lr.Sent, "every frame arrived upstream")
	td.Cmp(t, rep.Preroll, 0)
	td.Cmp(t, rep.Streams, int64(3))
	td.Cmp(t, rep.StillOpen, int64(0))
	td.Cmp(t, rep.Live.N, lr.Sent)
	td.Cmp(t, rep.Live.Max, td.Between(0.0, 5000.0))
	td.Cmp(t, len(lr.ResultNs), td.Gte(1), "a Results per second of audio per session")
	for _, ns := range lr.ResultNs {
		td.Cmp(t, float64(ns)/1e6, td.Between(minResultMs, minResultMs+5000))
	}
}

func TestRelayLoop(t *testing.T) {
	up := httptest.NewServer(newUpstream(upstreamConfig{Key: upstreamKey}))
	defer up.Close()
	rl := httptest.NewServer(&relay{upstreamURL: "ws" + strings.TrimPrefix(up.URL, "http") + "/v1/listen", key: upstreamKey})
	defer rl.Close()
	lr, rep := loopback(t, up, rl.URL)
	checkLoop(t, lr, rep, 0)
}

// The gateway takes the upstream's Results as Deepgram's: the stamp words
// come back in segments after the 600 ms flush.
func TestGatewayLoop(t *testing.T) {
	up := httptest.NewServer(newUpstream(upstreamConfig{Key: upstreamKey}))
	defer up.Close()
	prov, err := deepgram.New(deepgram.Config{URL: "ws" + strings.TrimPrefix(up.URL, "http") + "/v1/listen", APIKey: upstreamKey})
	td.Require(t).CmpNoError(err)
	srv, err := pipeline.New(pipeline.Config{APIKeys: []string{clientKey}},
		pipeline.Deps{Provider: prov, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	td.Require(t).CmpNoError(err)
	gw := httptest.NewServer(srv)
	defer gw.Close()
	lr, rep := loopback(t, up, gw.URL)
	checkLoop(t, lr, rep, 600)
}

func TestUpstreamRefusesABadKey(t *testing.T) {
	up := httptest.NewServer(newUpstream(upstreamConfig{Key: upstreamKey}))
	defer up.Close()
	req, err := http.NewRequest(http.MethodGet, up.URL+"/v1/listen", nil)
	td.Require(t).CmpNoError(err)
	req.Header.Set("Authorization", "Token wrong")
	resp, err := http.DefaultClient.Do(req)
	td.Require(t).CmpNoError(err)
	resp.Body.Close()
	td.Cmp(t, resp.StatusCode, http.StatusUnauthorized)
}
