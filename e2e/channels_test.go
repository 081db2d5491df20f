package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	streamclient "earshot/client"
	"earshot/emulate"
	"earshot/internal/testfix"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/protocol"
	"earshot/stages/local"
)

// twoChannelAudio is a phone call's two legs: the user says fox, lights,
// deck; the other side deck, fox, lights (16 kHz, 0.8 s pauses).
func twoChannelAudio(t *testing.T) (pcm [2][]byte, refs [2]string) {
	t.Helper()
	byName := map[string]testrig.Clip{}
	for _, c := range testrig.Clips16k(t, testfix.SynthDir(t), func(c testrig.Clip) bool { return c.RateHz == 16000 }) {
		byName[c.Name] = c
	}
	for i, names := range [2][]string{{"fox-16k.wav", "lights-16k.wav", "deck-16k.wav"}, {"deck-16k.wav", "fox-16k.wav", "lights-16k.wav"}} {
		var clips []testrig.Clip
		for _, n := range names {
			clips = append(clips, byName[n])
		}
		j, ref := testrig.JoinClips(clips, []int{800, 800, 800, 800}, 0, uint64(i+1))
		pcm[i], refs[i] = j.PCM, ref
	}
	return pcm, refs
}

// streamChannels sends both channels interleaved as [id][100 ms of PCM]
// frames at four times real time, then waits for the segments to settle
// and leaves; it returns every event and the final segments by id.
func streamChannels(t *testing.T, url string, pcm [2][]byte) ([]protocol.Event, map[string]protocol.Segment, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url+"?language=en&sample_rate=16000&codec=pcm16&channels=2",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + clientKey}}})
	td.Require(t).CmpNoError(err)
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	var (
		events []protocol.Event
		segs   = map[string]protocol.Segment{}
		order  []string
	)
	updated := make(chan struct{}, 1)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			ss, ev, err := protocol.Decode(b)
			if err != nil {
				continue
			}
			if ev.Type != "" {
				events = append(events, ev)
			}
			for _, s := range ss {
				if _, ok := segs[s.ID]; !ok {
					order = append(order, s.ID)
				}
				segs[s.ID] = s
			}
			select {
			case updated <- struct{}{}:
			default:
			}
		}
	}()
	const frame = 3200 // 100 ms
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for off := 0; off < max(len(pcm[0]), len(pcm[1])); off += frame {
		for ch := range 2 {
			if off >= len(pcm[ch]) {
				continue
			}
			b := append([]byte{byte(ch + 1)}, pcm[ch][off:min(off+frame, len(pcm[ch]))]...)
			td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageBinary, b))
		}
		<-tick.C
	}
	// Wait until 3 s pass without an update (the recognizer catches up).
	quiet := time.NewTimer(3 * time.Second)
	defer quiet.Stop()
	for waiting := true; waiting; {
		select {
		case <-updated:
			quiet.Reset(3 * time.Second)
		case <-quiet.C:
			waiting = false
		}
	}
	td.CmpNoError(t, c.Close(websocket.StatusNormalClosure, ""))
	<-readDone
	return events, segs, order
}

// channelText joins the final segments of one speaker label, in order.
func channelText(segs map[string]protocol.Segment, order []string, speaker string) (string, []protocol.Segment) {
	var words []string
	var of []protocol.Segment
	for _, id := range order {
		if s := segs[id]; s.Speaker == speaker {
			words = append(words, s.Text)
			of = append(of, s)
		}
	}
	return strings.Join(words, " "), of
}

// singleChannelWER is the WER of pcm streamed as an ordinary session
// through the gateway at url at the same pace.
func singleChannelWER(t *testing.T, url string, pcm []byte, ref string) float64 {
	t.Helper()
	rep, err := streamclient.Run(context.Background(), streamclient.Config{
		URL: url, Key: clientKey, Language: "en", SampleRate: 16000, Codec: "pcm16", Audio: pcm, Pace: 4,
		Mode: streamclient.ModePodcast, WaitFinal: 3 * time.Second, WaitFirst: time.Minute, Ref: ref,
	})
	td.Require(t).CmpNoError(err)
	td.Require(t).NotNil(rep.Sessions[0].WER)
	return rep.Sessions[0].WER.Rate
}

// TestTwoChannelSession streams a two-leg call through the gateway to the
// emulator (the embedded recognizer, one decoder per channel), once
// healthy and once with the first upstream stream dropped after 1 s: the
// user's channel is SPEAKER_00 with is_user, the other SPEAKER_01; each
// channel's transcript comes within 10 points of WER of the same audio in
// an ordinary session; a dropped channel is degraded and recovered on its
// own while the other keeps producing segments.
func TestTwoChannelSession(t *testing.T) {
	p := testfix.LocalProvider(t, local.Config{PoolSize: 2})
	pcm, refs := twoChannelAudio(t)
	var base [2]float64
	{
		_, dgURL := startEmulator(t, emulate.Config{Recognizer: emulate.FromProvider(p)})
		_, url := startGateway(t, dgURL, pipeline.Config{})
		for i := range base {
			waitIdle(t, p)
			base[i] = singleChannelWER(t, url, pcm[i], refs[i])
		}
	}
	for _, tc := range []struct {
		name   string
		faults emulate.Faults
	}{
		{"healthy", emulate.Faults{}},
		{"one channel dropped", emulate.Faults{DropAfterMs: 1000, DropStreams: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, dgURL := startEmulator(t, emulate.Config{Recognizer: emulate.FromProvider(p), Faults: tc.faults})
			_, url := startGateway(t, dgURL, pipeline.Config{})
			waitIdle(t, p)
			events, segs, order := streamChannels(t, url, pcm)
			var statuses []string
			degraded := map[int]int{}
			for _, e := range events {
				statuses = append(statuses, e.Status)
				if e.Status == protocol.StatusSTTDegraded {
					degraded[e.Channel]++
				}
			}
			td.Cmp(t, statuses[:4], []string{"initiating", "in_progress_conversations_processing", "stt_initiating", "ready"})
			for i, speaker := range []string{"SPEAKER_00", "SPEAKER_01"} {
				text, of := channelText(segs, order, speaker)
				td.Require(t).NotEmpty(of, speaker)
				for _, s := range of {
					td.Cmp(t, s.IsUser, i == 0, "%s: is_user only on channel 1", speaker)
					td.Cmp(t, s.SpeakerID, i)
					td.Cmp(t, s.Start, td.Between(0.0, 20.0))
				}
				w := streamclient.WER(refs[i], text)
				t.Logf("%s %s: WER %.1f%% (ordinary session %.1f%%): %s", tc.name, speaker, 100*w.Rate, 100*base[i], text)
				td.Cmp(t, w.Rate, td.Lte(base[i]+0.10), "%s within 10 points of the same audio in an ordinary session", speaker)
			}
			td.Cmp(t, len(segs), len(order))
			if tc.faults.DropAfterMs == 0 {
				td.Cmp(t, degraded, map[int]int{}, "no channel degraded")
				return
			}
			td.Cmp(t, degraded, td.Len(1), "exactly one channel degraded: %v", degraded)
			for ch := range degraded {
				td.Cmp(t, ch, td.Between(1, 2))
			}
			td.Cmp(t, statuses, td.Contains(protocol.StatusSTTRecovered))
		})
	}
}

// TestTwoChannelClientLeavingMidDialAbortsBoth: while both channels'
// upgrades hang at the emulator, the client leaves: both dials are
// abandoned at once (the emulator sees both clients go) and none is made
// again.
func TestTwoChannelClientLeavingMidDialAbortsBoth(t *testing.T) {
	emu, dgURL := startEmulator(t, emulate.Config{Faults: emulate.Faults{HandshakeDelayMs: 60_000}})
	srv, url := startGateway(t, dgURL, pipeline.Config{})
	c := dialClient(t, url+"?sample_rate=16000&codec=pcm16&channels=2")
	c.ReadUntil(t, 10*time.Second, func(c *client) bool { return len(c.Statuses) == 3 })
	deadline := time.Now().Add(10 * time.Second)
	for emu.Stats().UpgradeAttempts < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling the emulator's counters
	}
	td.Require(t).Cmp(emu.Stats().UpgradeAttempts, int64(2), "both channels are dialing")
	left := time.Now()
	td.CmpNoError(t, c.Conn.Close(websocket.StatusNormalClosure, ""))
	for srv.Sessions() > 0 && time.Since(left) < 10*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	td.Cmp(t, srv.Sessions(), 0)
	td.Cmp(t, time.Since(left), td.Lt(2*time.Second), "both dials abandoned at once, not after the 60 s handshake")
	td.Cmp(t, emu.Stats().UpgradeAttempts, int64(2), "no dial after the client left")
}
