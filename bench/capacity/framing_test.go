package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/packets"
	"earshot/stages/gate"
	"earshot/stages/ingest"
)

func TestSessionOffset(t *testing.T) {
	// 100 ms frames: the first runs' offsets, 37 frames apart.
	for i := range 20 {
		td.Cmp(t, sessionOffset(i, 383, 100*time.Millisecond), i*37%383, "session %d", i)
	}
	// Whole packets at the same places in time (3.7 s apart), whatever
	// the framing of the same loop.
	for i := range 500 {
		at100 := time.Duration(sessionOffset(i, 383, 100*time.Millisecond)) * 100 * time.Millisecond
		td.Cmp(t, time.Duration(sessionOffset(i, 5*383, 20*time.Millisecond))*20*time.Millisecond, at100, "session %d, 20 ms", i)
		td.Cmp(t, time.Duration(sessionOffset(i, 10*383, 10*time.Millisecond))*10*time.Millisecond, at100, "session %d, 10 ms", i)
	}
	td.Cmp(t, sessionOffset(1, 1000, 64*time.Millisecond), 58, "AAC's 64 ms: 3.7 s rounds to 58 packets")
	td.Cmp(t, sessionOffset(3, 10, 5*time.Second), 3, "frames longer than the stride: one frame apart")
	td.Cmp(t, sessionOffset(7, 1, 20*time.Millisecond), 0, "a loop of one frame")
}

func TestPlanPackets(t *testing.T) {
	var pkts [][]byte
	for i := range 20 { // 0.4 s of 20 ms packets: 100 ms frames 0..3
		pkts = append(pkts, []byte{byte(i)})
	}
	got, err := planPackets(pkts, 20, []int{2, 3, 3, 0})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, bytes.Join(got, nil), []byte{10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 15, 16, 17, 18, 19, 0, 1, 2, 3, 4})

	got, err = planPackets(pkts, 10, []int{1})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, bytes.Join(got, nil), []byte{10, 11, 12, 13, 14, 15, 16, 17, 18, 19})

	_, err = planPackets(pkts, 64, []int{0})
	td.CmpString(t, err, "packets of 64 ms do not tile 100 ms frames")
	_, err = planPackets(pkts, 20, []int{0, 4})
	td.CmpString(t, err, "20 packets end before frame 4 (packets 20 to 24)")
}

func TestPCMFraming(t *testing.T) {
	conv, err := loadConversation("../../fixtures/speech-synth/demo-16k.wav", 25)
	td.Require(t).CmpNoError(err)
	for _, ms := range []int{100, 20} {
		fr, err := newFraming(context.Background(), "pcm16", ms, conv, "../..")
		td.Require(t).CmpNoError(err)
		n := 2 * sampleRate * ms / 1000
		td.Cmp(t, fr.LoopFrames, len(conv.PCM)/n)
		td.Cmp(t, bytes.Join(fr.Frames, nil), conv.PCM, "%d ms: the loop cut in order", ms)
		td.Cmp(t, fr.MaxBytes, n)
		td.CmpTrue(t, fr.Stamped)
		td.CmpTrue(t, fr.isDefault() == (ms == 100))
		td.Cmp(t, fr.everyFrames(1000), 1000/ms, "a Results a second of audio")
		td.Cmp(t, fr.everyFrames(gate.DefaultPrerollMs), (gate.DefaultPrerollMs+ms-1)/ms)
		td.Cmp(t, fr.listenPath(1), "/v4/listen?language=en&sample_rate=16000&codec=pcm16&channels=1")
	}
	_, err = newFraming(context.Background(), "pcm16", 5, conv, "../..")
	td.CmpString(t, err, "-frame-ms: 5 is not between 10 and 1000")
	_, err = newFraming(context.Background(), "speex", 100, conv, "../..")
	td.Cmp(t, err, td.HasPrefix(`-codec: unknown "speex"`))
}

// Opus in 20 ms packets: client.Encode's with -tags libcodecs, the
// fixture's otherwise; either way the loop is the conversation's length
// and every packet is one the gateway decodes.
func TestOpusFraming(t *testing.T) {
	conv, err := loadConversation("../../fixtures/speech-synth/demo-16k.wav", 25)
	td.Require(t).CmpNoError(err)
	fr, err := newFraming(context.Background(), "opus_fs320", 100, conv, "../..")
	td.Require(t).CmpNoError(err)
	t.Log(fr.sentence())
	td.Cmp(t, fr.Dur, 20*time.Millisecond)
	td.Cmp(t, fr.FramesPerSec, 50.0)
	td.CmpFalse(t, fr.Stamped)
	td.CmpFalse(t, fr.isDefault())
	td.Cmp(t, fr.LoopFrames, len(conv.PCM)/640, "the stretched loop in whole packets")
	td.Cmp(t, fr.everyFrames(1000), 50)
	td.Cmp(t, fr.everyFrames(gate.DefaultPrerollMs), 15)
	td.Cmp(t, fr.listenPath(1), td.Contains("&codec=opus_fs320&"))
	td.Cmp(t, slices.IndexFunc(fr.Frames, func(p []byte) bool { return len(p) < ingest.MinAudioFrameBytes }), -1,
		"no packet short enough for the gateway to take it for a ping answer")
}

// Without an encoder the fixture's packets are put in the loop's order.
func TestFixtureFrames(t *testing.T) {
	conv, err := loadConversation("../../fixtures/speech-synth/demo-16k.wav", 25)
	td.Require(t).CmpNoError(err)
	got, dur, source, err := fixtureFrames("../..", "opus_fs320", conv)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, dur, 20*time.Millisecond)
	td.Cmp(t, source, td.HasPrefix("fixture fixtures/codecs/opus-celt20-demo.pkt "))
	raw, err := os.ReadFile("../../fixtures/codecs/opus-celt20-demo.pkt")
	td.Require(t).CmpNoError(err)
	pkts, err := packets.Parse(raw)
	td.Require(t).CmpNoError(err)
	td.Require(t).Cmp(len(got), 5*len(conv.Plan))
	for j, f := range conv.Plan {
		for k := range 5 {
			td.Cmp(t, got[5*j+k], pkts[5*f+k], "loop frame %d (recording's frame %d), packet %d", j, f, k)
		}
	}
	_, _, _, err = fixtureFrames("../..", "mulaw8", conv)
	td.CmpString(t, err, "no fixture of mulaw8 at 16000 Hz made from demo-16k.wav")
}

// Each session sends the loop's frames in order from its offset, one
// message a frame, unchanged when not stamped, at the frame's pace.
func TestLoadSendsFramesFromOffsets(t *testing.T) {
	var loop [][]byte
	for i := range 40 {
		loop = append(loop, bytes.Repeat([]byte{byte(i)}, 3+i%5)) // distinct, of different sizes
	}
	ended := make(chan []int, 8) // per connection, the loop index of each message, when it ends
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		var seq []int
		defer func() { ended <- seq }()
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				return
			}
			i := int(b[0])
			td.Cmp(t, b, loop[i], "sent unchanged")
			seq = append(seq, i)
		}
	}))
	defer srv.Close()
	const dur = 10 * time.Millisecond
	start := time.Now()
	lr := runLoad(loadSpec{
		URL: "ws" + strings.TrimPrefix(srv.URL, "http"), Sessions: 4, Start: start, Ramp: 20 * time.Millisecond,
		Frames: loop, FrameDur: dur, Stop: start.Add(600 * time.Millisecond),
		From: start.UnixNano(), To: start.Add(time.Hour).UnixNano(),
	})
	td.Cmp(t, lr.Failed, 0, "%v", lr.Failures)
	var seqs [][]int
	for range 4 { // the server's handlers may still be finishing
		select {
		case seq := <-ended:
			seqs = append(seqs, seq)
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of 4 connections ended", len(seqs))
		}
	}
	var starts []int
	total := 0
	for _, seq := range seqs {
		td.Require(t).Cmp(len(seq), td.Between(30, 60), "about 580 ms of 10 ms frames")
		for k := range seq {
			td.Cmp(t, seq[k], (seq[0]+k)%len(loop), "in loop order, wrapping")
		}
		starts = append(starts, seq[0])
		total += len(seq)
	}
	slices.Sort(starts)
	want := []int{sessionOffset(0, 40, dur), sessionOffset(1, 40, dur), sessionOffset(2, 40, dur), sessionOffset(3, 40, dur)}
	slices.Sort(want)
	td.Cmp(t, starts, want, "each session from its own offset")
	td.Cmp(t, lr.SentAll, total, "every frame sent counted")
}

func TestFramingFlags(t *testing.T) {
	o, err := parseOptions(nil)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, o.codec, "pcm16")
	td.Cmp(t, o.frameMs, defaultFrameMs)
	td.CmpFalse(t, o.pngSet)

	o, err = parseOptions([]string{"-codec", "pcm16", "-frame-ms", "20", "-png", "x.png"})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, o.frameMs, 20)
	td.CmpTrue(t, o.pngSet)

	_, err = parseOptions([]string{"-codec", "opus_fs320", "-frame-ms", "20"})
	td.Cmp(t, err, td.HasPrefix("-frame-ms: for pcm16 and pcm8 only"))
}

// A run spoiled by outside load stays in the tables, marked, and counts
// neither for the capacity nor for the ratio to the relay.
func TestSpoiledRunsAreNotCounted(t *testing.T) {
	run := func(config string, n int, pass, spoiled bool) *Run {
		return &Run{Config: config, Sessions: n, Purpose: purposeCapacity, Pass: pass, Spoiled: spoiled, OutsideCores: 0.5,
			WindowSec: 10, Pinned: true, TargetCPUs: 1, TargetAffinity: "0", TargetCores: 0.5, CPUPerAudioSec: 0.001}
	}
	res := &results{
		Machine:  machine{Cores: 2},
		Settings: settings{MaxLateMs: 200, Pin: true, TargetCPUs: 1, TargetCPUList: "0", LoadCPUList: "1"},
		Runs: []*Run{
			run(kindGateOff, 300, true, false), run(kindRelay, 300, true, true),
			run(kindGateOff, 400, true, true), run(kindGateOff, 400, false, false), run(kindRelay, 400, true, false),
		},
	}
	res.summarize(&options{})
	td.Cmp(t, res.Summary, td.Bag(
		td.SStruct(summary{Config: kindGateOff, Sessions: 300, FailedAbove: true}, td.StructFields{"=*": td.Ignore()}),
		td.SStruct(summary{Config: kindRelay, Sessions: 400}, td.StructFields{"=*": td.Ignore()}),
	))
	td.Cmp(t, res.Ratios, td.Len(1), "400 only: the relay at 300 was spoiled")
	td.Cmp(t, res.markdown(), td.Contains("| gate-off | 400 | 1, pinned (CPU 0) | yes | – | 0.00 | 1.000 | 0.50 | 0 | 0.00 | 0.50 | not counted (outside 0.50 cores); yes |"))
}
