package main

import (
	"context"
	"encoding/json"
	"fmt"
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

// testFraming frames the demo conversation as the harness does.
func testFraming(t *testing.T, codec string, frameMs int) *framing {
	t.Helper()
	conv, err := loadConversation("../../fixtures/speech-synth/demo-16k.wav", 25)
	td.Require(t).CmpNoError(err)
	fr, err := newFraming(context.Background(), codec, frameMs, conv, "../..")
	td.Require(t).CmpNoError(err)
	t.Log(fr.sentence())
	return fr
}

// loopback runs a short load of fr's frames, in sessions of channels
// channels, through target (whose upstream is up; whose segment times
// count from origin, see arrival.go) and returns what the load generator
// and the upstream measured.
func loopback(t *testing.T, upSrv *httptest.Server, targetURL string, fr *framing, channels int, origin string) (loadResult, upstreamReport) {
	t.Helper()
	start := time.Now().Add(50 * time.Millisecond)
	from := start.Add(400 * time.Millisecond)
	to := from.Add(1500 * time.Millisecond)
	lr := runLoad(loadSpec{
		URL: "ws" + strings.TrimPrefix(targetURL, "http") + fr.listenPath(channels),
		Key: clientKey, Sessions: 3, Start: start, Ramp: 100 * time.Millisecond,
		Frames: fr.Frames, FrameDur: fr.Dur, Stamp: fr.Stamped, Channels: channels, Origin: origin,
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

func checkLoop(t *testing.T, lr loadResult, rep upstreamReport, fr *framing, channels int, minResultMs float64) {
	t.Helper()
	td.Cmp(t, lr.Failed, 0, "failures: %v", lr.Failures)
	perSec := int(fr.FramesPerSec) * channels
	td.Cmp(t, lr.Sent, td.Between(3*perSec, 3*perSec*16/10), "3 sessions, 1.5 s of frames per channel (fewer on a loaded machine)")
	td.Cmp(t, rep.AudioFrames, int64(lr.SentAll), "every frame of the run arrived upstream")
	td.Cmp(t, rep.Preroll, 0)
	td.Cmp(t, rep.Streams, int64(3*channels), "an upstream socket per channel")
	td.Cmp(t, rep.StillOpen, int64(0))
	if fr.Stamped {
		td.Cmp(t, rep.Frames, lr.Sent, "every frame of the window arrived upstream")
		td.Cmp(t, rep.Live.N, lr.Sent)
		td.Cmp(t, rep.Live.Max, td.Between(0.0, 5000.0))
	} else {
		td.Cmp(t, rep.Frames, 0, "no stamp survives a codec")
	}
	td.Cmp(t, len(lr.ResultNs), td.Gte(1), "a Results per second of audio per session")
	if channels > 1 {
		td.Cmp(t, len(lr.ResultNs)+lr.Batched, td.Gte(3*channels), "results of every channel's socket")
	}
	for _, ns := range lr.ResultNs {
		td.Cmp(t, float64(ns)/1e6, td.Between(minResultMs, minResultMs+5000))
	}
	// The arrival words: a sample per Results, each mapped to the frame
	// whose end its segment's end is, and no further: latencies of a few
	// milliseconds here, not minus one frame or plus several.
	td.Cmp(t, lr.ArrivalNs, td.Len(td.Gte(1)), "arrival samples")
	for _, ns := range lr.ArrivalNs {
		td.Cmp(t, float64(ns)/1e6, td.Between(0.0, 500.0))
	}
	td.Cmp(t, lr.ArrivalPrerollNs, td.Len(0))
	td.Cmp(t, lr.OriginGroups, td.Gte(3), "a conversation per session at least")
	td.Cmp(t, lr.OriginMismatches, 0, "the calibration finds the known origin")
	td.Cmp(t, lr.ArrivalUnresolved, 0)
}

// The framings the loop tests run: the first runs' pcm16 in 100 ms
// frames, pcm16 in 20 ms frames, and Opus in 20 ms and in 10 ms packets
// (libopus, or the fixtures without -tags libcodecs); and two-channel
// sessions of pcm16 in 100 ms frames and of Opus.
var loopFramings = []loopFraming{
	{"pcm16", 100, 1}, {"pcm16", 20, 1}, {"opus_fs320", defaultFrameMs, 1}, {"opus", defaultFrameMs, 1},
	{"pcm16", 100, 2}, {"opus_fs320", defaultFrameMs, 2},
}

type loopFraming struct {
	codec    string
	frameMs  int
	channels int
}

func (f loopFraming) name() string {
	if f.channels > 1 {
		return fmt.Sprintf("%s-%d-%dch", f.codec, f.frameMs, f.channels)
	}
	return fmt.Sprintf("%s-%d", f.codec, f.frameMs)
}

func TestRelayLoop(t *testing.T) {
	for _, f := range loopFramings {
		t.Run(f.name(), func(t *testing.T) {
			fr := testFraming(t, f.codec, f.frameMs)
			cfg := upstreamConfig{Key: upstreamKey, ResultEvery: fr.everyFrames(1000)}
			if !fr.Stamped {
				cfg.FrameSamples = fr.samples() // the relay forwards the packets
			}
			up := httptest.NewServer(newUpstream(cfg))
			defer up.Close()
			rl := httptest.NewServer(&relay{upstreamURL: "ws" + strings.TrimPrefix(up.URL, "http") + "/v1/listen", key: upstreamKey})
			defer rl.Close()
			lr, rep := loopback(t, up, rl.URL, fr, f.channels, originCapture)
			checkLoop(t, lr, rep, fr, f.channels, 0)
			if !fr.Stamped {
				td.Cmp(t, rep.AudioBytes, td.Lt(int64(lr.SentAll*fr.MaxBytes+1)), "the relay forwards the packets as they are")
			}
		})
	}
}

// The gateway takes the upstream's Results as Deepgram's: the stamp words
// come back in segments after the 600 ms flush, their arrival words
// mapped to the frames they end (the gate off: the origin is capture 0).
// Opus packets are decoded: the upstream receives PCM, one message a
// packet.
func TestGatewayLoop(t *testing.T) {
	for _, f := range loopFramings {
		t.Run(f.name(), func(t *testing.T) {
			fr := testFraming(t, f.codec, f.frameMs)
			up := httptest.NewServer(newUpstream(upstreamConfig{Key: upstreamKey, ResultEvery: fr.everyFrames(1000)}))
			defer up.Close()
			prov, err := deepgram.New(deepgram.Config{URL: "ws" + strings.TrimPrefix(up.URL, "http") + "/v1/listen", APIKey: upstreamKey})
			td.Require(t).CmpNoError(err)
			srv, err := pipeline.New(pipeline.Config{APIKeys: []string{clientKey}},
				pipeline.Deps{Provider: prov, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			td.Require(t).CmpNoError(err)
			gw := httptest.NewServer(srv)
			defer gw.Close()
			lr, rep := loopback(t, up, gw.URL, fr, f.channels, originStreamStart)
			checkLoop(t, lr, rep, fr, f.channels, 600)
			if !fr.Stamped {
				td.Cmp(t, rep.AudioBytes, int64(lr.SentAll*2*fr.samples()), "each packet decoded to its duration of PCM")
			}
		})
	}
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
