package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"
)

func TestChannelsOption(t *testing.T) {
	o, err := parseOptions(nil)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, o.channels, 1)
	o, err = parseOptions([]string{"-channels", "2"})
	td.Require(t).CmpNoError(err)
	td.Cmp(t, o.channels, 2)
	for _, bad := range []string{"0", "9", "-1"} {
		_, err = parseOptions([]string{"-channels", bad})
		td.Cmp(t, err, td.HasPrefix("-channels: "+bad+" is not between 1 and 8"), bad)
	}
}

// A multi-channel frame is [id][payload]; the stamp goes into the
// payload, where the upstream (which gets the payload alone) finds it.
func TestChannelFrame(t *testing.T) {
	payload := make([]byte, frameBytes)
	for i := range payload {
		payload[i] = byte(i*5 + 1)
	}
	orig := append([]byte(nil), payload...)
	buf := make([]byte, frameBytes+1)
	st := stamp{Session: 7, Seq: 42, SentNs: 1_764_201_234_567_890_123}

	msg, pcm := channelFrame(buf, 1, 0, payload)
	td.Cmp(t, msg, orig, "one channel: the payload as it is, no id")
	putStamp(pcm, st)
	got, ok := readStamp(msg)
	td.CmpTrue(t, ok)
	td.Cmp(t, got, st)

	for c := range 2 {
		msg, pcm := channelFrame(buf, 2, c, payload)
		td.Cmp(t, len(msg), frameBytes+1)
		td.Cmp(t, msg[0], byte(c+1), "the channel id, 1-based, first")
		td.Cmp(t, msg[1:], orig, "then the payload")
		putStamp(pcm, st)
		td.Cmp(t, msg[0], byte(c+1), "the stamp leaves the id alone")
		got, ok := readStamp(msg[1:]) // what the gateway or the relay sends upstream
		td.CmpTrue(t, ok, "the stamp is at the payload's start")
		td.Cmp(t, got, st)
		_, ok = readStamp(msg)
		td.CmpFalse(t, ok, "not at the message's start: shifted by the id byte")
		for i := 2 * stampBytes; i < frameBytes; i++ {
			if msg[1+i] != orig[i] {
				t.Fatalf("channel %d: payload byte %d changed", c+1, i)
			}
		}
	}
	td.Cmp(t, payload, orig, "the shared frame is not written")
}

func TestChannelShift(t *testing.T) {
	td.Cmp(t, channelShift(0, 1, 383), 0)
	td.Cmp(t, channelShift(0, 2, 383), 0, "channel 1 is the single-channel audio")
	td.Cmp(t, channelShift(1, 2, 383), 191, "channel 2: half the loop later")
	td.Cmp(t, channelShift(2, 3, 10), 6)
}

// Each frame time sends one [id][payload] message per channel, channel c
// from its own place in the loop; every message counts as a frame.
func TestLoadSendsChannelFrames(t *testing.T) {
	var loop [][]byte
	for i := range 40 {
		loop = append(loop, bytes.Repeat([]byte{byte(i)}, 3+i%5))
	}
	ended := make(chan [2][]int, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		var seq [2][]int
		defer func() { ended <- seq }()
		for k := 0; ; k++ {
			_, b, err := c.Read(context.Background())
			if err != nil {
				return
			}
			td.Cmp(t, int(b[0]), k%2+1, "message %d: channels in turn, ids 1 and 2", k)
			i := int(b[1])
			td.Cmp(t, b[1:], loop[i], "the payload unchanged")
			seq[b[0]-1] = append(seq[b[0]-1], i)
		}
	}))
	defer srv.Close()
	start := time.Now()
	lr := runLoad(loadSpec{
		URL: "ws" + strings.TrimPrefix(srv.URL, "http"), Sessions: 1, Start: start, Ramp: time.Millisecond,
		Frames: loop, FrameDur: 10 * time.Millisecond, Channels: 2, Stop: start.Add(300 * time.Millisecond),
		From: start.UnixNano(), To: start.Add(time.Hour).UnixNano(),
	})
	td.Cmp(t, lr.Failed, 0, "%v", lr.Failures)
	var seq [2][]int
	select {
	case seq = <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the connection did not end")
	}
	td.Require(t).Cmp(len(seq[0]), td.Between(15, 31))
	td.Cmp(t, len(seq[1]), len(seq[0]))
	for k := range seq[0] {
		td.Cmp(t, seq[0][k], k%40, "channel 1: session 0's loop from its start")
		td.Cmp(t, seq[1][k], (20+k)%40, "channel 2: half the loop later")
	}
	td.Cmp(t, lr.SentAll, 2*len(seq[0]), "every channel frame counted")
}

// Two channels' sockets answer independently: their stamp words may come
// out of order, and a word seen once (a segment sent again) is not new.
func TestSeenWords(t *testing.T) {
	one := seenWords{}
	td.CmpTrue(t, one.fresh(100))
	td.CmpFalse(t, one.fresh(100))
	td.CmpFalse(t, one.fresh(90), "one channel: older than the newest is old")
	td.CmpTrue(t, one.fresh(110))

	multi := seenWords{multi: true}
	td.CmpTrue(t, multi.fresh(100))
	td.CmpTrue(t, multi.fresh(90), "another channel's older word is new")
	td.CmpFalse(t, multi.fresh(100))
	td.CmpFalse(t, multi.fresh(90))
	td.CmpTrue(t, multi.fresh(200e9))
	td.CmpFalse(t, multi.fresh(100), "a minute older than the newest: sent again")
	for i := range int64(2000) {
		td.Require(t).True(multi.fresh(200e9 + 1e9*(i+1)))
	}
	td.Cmp(t, len(multi.set), td.Lte(1100), "pruned")
	td.CmpFalse(t, multi.fresh(200e9+2000e9), "still seen after pruning")
}

func TestChannelTables(t *testing.T) {
	res := pinnedResults(true)
	res.Settings.Channels = 2
	for _, r := range res.Runs {
		r.Channels = 2
	}
	res.summarize(&options{})
	td.Cmp(t, res.Summary[0].UpstreamSockets, 600)
	td.Cmp(t, res.Summary[0].Channels, 2)
	td.Cmp(t, res.markdown(), td.All(
		td.Contains("Channels: 2 per session. Sessions are client sessions;"),
		td.Contains("| config | sessions | upstream sockets | target CPUs | pace ok |"),
		td.Contains("target CPU-ms / channel-audio-s |"),
		td.Contains("| gate-off | 300 | 600 | 1, pinned (CPU 0) | yes |"),
		td.Contains("| config | largest passing sessions | upstream sockets | sessions on the target's one core (pinned) |"),
		td.Contains("| gate-off | 300 | 600 | 300 | 0.50 | 600 |"),
		td.Contains("| 300 | 600 | 1.000 | 1.000 | 1.00× |"),
	))
	td.Cmp(t, pinnedResults(true).markdown(), td.All(
		td.Not(td.Contains("upstream sockets")),
		td.Not(td.Contains("channel-audio-s")),
		td.Not(td.Contains("Channels:")),
	), "one channel: the first runs' tables")
}

// The fill: per channel-audio-second, and one upstream stream per
// channel.
func TestFillCountsChannels(t *testing.T) {
	o := &options{target: 20 * time.Millisecond, maxLate: 200 * time.Millisecond}
	a := snap{at: time.Unix(0, 0)}
	b := snap{at: time.Unix(10, 0), target: 2}
	lr := loadResult{Sent: 400, SentAll: 440, ResultNs: []int64{601e6}}
	rep := upstreamReport{Streams: 20, Frames: 400, Live: latency{N: 400, P99: 1}}
	r := &Run{Channels: 2, Stamped: true}
	r.fill(kindGateOff, 10, lr, rep, a, b, 0, 0, 10*time.Second, o)
	td.CmpTrue(t, r.Pass, "%v", r.Why)
	td.Cmp(t, r.AudioSec, 200.0, "10 sessions × 2 channels × 10 s")
	td.Cmp(t, r.CPUPerAudioSec, 0.01)

	rep.Streams = 10
	r = &Run{Channels: 2, Stamped: true}
	r.fill(kindGateOff, 10, lr, rep, a, b, 0, 0, 10*time.Second, o)
	td.Cmp(t, r.Why, []string{"10 upstream streams for 10 sessions of 2 channels"})
}
