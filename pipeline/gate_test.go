package pipeline_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/pipeline"
	"earshot/stages"
	"earshot/stages/gate"
	"earshot/stages/stagestest"
)

// logBuf is a log sink safe for the session goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// pcm16k renders ms of 16 kHz audio: loud (speech to the fake detector)
// or quiet.
func pcm16k(ms int, loud bool) []byte {
	var b []byte
	for i := range ms * 16 {
		v := i % 1000
		if loud {
			v += 8000
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}

// streamFrames writes audio in 100 ms frames, in real time.
func streamFrames(t *testing.T, c *websocket.Conn, audio []byte) {
	t.Helper()
	for len(audio) > 0 {
		n := min(3200, len(audio))
		time.Sleep(100 * time.Millisecond)
		td.Require(t).CmpNoError(c.Write(context.Background(), websocket.MessageBinary, audio[:n]))
		audio = audio[n:]
	}
}

// TestListenGateCostAccounting runs a gated session: 2 s of silence, 1 s
// of speech, 7 s of silence. Upstream gets 2 s (pre-roll, speech,
// hangover) and one KeepAlive; the summary, the closing log line and the
// metrics count it all.
func TestListenGateCostAccounting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ended := make(chan pipeline.SessionSummary, 1)
		logs := &logBuf{}
		g := newGatewayWith(t, pipeline.Config{Gate: gate.Config{Mode: gate.Active}}, pipeline.Deps{
			NewDetector:  (&stagestest.Detectors{Window: 160}).New,
			OnSessionEnd: func(s pipeline.SessionSummary) { ended <- s },
			Logger:       slog.New(slog.NewTextHandler(logs, nil)),
		}, true)
		c := g.dial(t, "sample_rate=16000&codec=pcm16", testKey)
		statuses(t, c)
		up := stagestest.NewStream(256)
		(<-g.p.Dials).Accept(up)
		td.Cmp(t, next(t, c).Status, "ready")
		go func() { // the client reads (pings) until it leaves
			for {
				if _, _, err := c.Read(context.Background()); err != nil {
					return
				}
			}
		}()
		var audio []byte
		audio = append(audio, pcm16k(2000, false)...)
		audio = append(audio, pcm16k(1000, true)...)
		audio = append(audio, pcm16k(7000, false)...)
		streamFrames(t, c, audio)
		up.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 2}) // covers all it got
		synctest.Wait()
		td.CmpNoError(t, c.Close(websocket.StatusNormalClosure, "bye"))
		var ctls []stages.Control
		for ctl := range up.Controls {
			ctls = append(ctls, ctl)
			if ctl == stages.ControlCloseStream {
				up.EndNormally()
				break
			}
		}
		td.Cmp(t, ctls, []stages.Control{stages.ControlFinalize, stages.ControlKeepAlive, stages.ControlCloseStream})
		sent := 0
		for len(up.Audio) > 0 {
			sent += len(<-up.Audio)
		}
		td.Cmp(t, sent, 64000, "2 s (frames that queued, as the pre-roll does, go in fewer messages)")

		sum := <-ended
		td.Cmp(t, sum, td.SStruct(pipeline.SessionSummary{
			Channels: 1, CaptureSeconds: 10, SentSeconds: 2, SpeechSeconds: 1, HeldSeconds: 8,
			KeepAlives: 1, Gate: gate.Active,
		}, td.StructFields{"ID": td.NotEmpty(), "Started": td.Ignore(), "Ended": td.Ignore(), "CloseCode": 1000}))
		td.Cmp(t, logs.String(), td.All(
			td.Re(`msg="session started".* gate=active`),
			td.Re(`msg="session ended".* capture_seconds=10 decode_errors=0 sent_seconds=2 speech_seconds=1 held_seconds=8 `+
				`replayed_seconds=0 lost_seconds=0 keepalives=1 gate=active gate_failed_open=false`),
		))
		td.Cmp(t, metricValues(g), td.SuperMapOf(map[string]any{
			`earshot_gate_sessions_total{mode="active"}`:     1.0,
			`earshot_gate_speech_seconds_total`:              td.N(1.0, 1e-9),
			`earshot_gate_held_seconds_total{mode="active"}`: td.N(8.0, 1e-9),
			`earshot_gate_fail_open_total`:                   0.0,
			`earshot_audio_capture_seconds_total`:            td.N(10.0, 1e-9),
			`earshot_audio_upstream_seconds_total`:           td.N(2.0, 1e-9),
			`earshot_audio_lost_seconds_total`:               0.0,
			`earshot_upstream_keepalives_total`:              1.0,
			`earshot_upstream_gate_finalizes_total`:          1.0,
		}, nil))
	})
}

// metricValues parses the gateway's metrics (name with labels → value).
func metricValues(g *gateway) map[string]any {
	var b strings.Builder
	g.set.WritePrometheus(&b)
	vals := map[string]any{}
	for line := range strings.Lines(b.String()) {
		name, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if f, err := strconv.ParseFloat(v, 64); ok && err == nil {
			vals[name] = f
		}
	}
	return vals
}

// TestListenVADGateParamOverridesServerMode: vad_gate=enabled makes the
// session's gate active, disabled turns it off, absent keeps the server's
// mode; without a detector every gate is off.
func TestListenVADGateParamOverridesServerMode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server gate.Mode
		det    bool
		query  string
		want   gate.Mode
	}{
		{"server default", gate.Active, true, "", gate.Active},
		{"disabled", gate.Active, true, "vad_gate=disabled", gate.Off},
		{"enabled", gate.Off, true, "vad_gate=enabled", gate.Active},
		{"shadow server", gate.Shadow, true, "", gate.Shadow},
		{"zero config", "", true, "", gate.Off},
		{"no detector", gate.Active, false, "vad_gate=enabled", gate.Off},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ended := make(chan pipeline.SessionSummary, 1)
				deps := pipeline.Deps{OnSessionEnd: func(s pipeline.SessionSummary) { ended <- s }}
				if tc.det {
					deps.NewDetector = (&stagestest.Detectors{}).New
				}
				g := newGatewayWith(t, pipeline.Config{Gate: gate.Config{Mode: tc.server}}, deps, true)
				c := g.dial(t, tc.query, testKey)
				statuses(t, c)
				up := stagestest.NewStream(16)
				(<-g.p.Dials).Accept(up)
				next(t, c)
				td.CmpNoError(t, c.Close(websocket.StatusNormalClosure, ""))
				endOnCloseStream(up)
				td.Cmp(t, (<-ended).Gate, tc.want)
			})
		})
	}
}

func TestNewChecksTheGateConfig(t *testing.T) {
	_, err := pipeline.New(pipeline.Config{Gate: gate.Config{Mode: "on"}},
		pipeline.Deps{Provider: stagestest.NewProvider()})
	td.Cmp(t, err, td.ErrorIs(gate.ErrConfig))

	logs := &logBuf{}
	_, err = pipeline.New(pipeline.Config{Gate: gate.Config{Mode: gate.Active}},
		pipeline.Deps{Provider: stagestest.NewProvider(), Logger: slog.New(slog.NewTextHandler(logs, nil))})
	td.CmpNoError(t, err)
	td.Cmp(t, logs.String(), td.Re(`level=WARN msg="vad gate mode set but no speech detector.*" mode=active`))
}
