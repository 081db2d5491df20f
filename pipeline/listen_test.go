package pipeline_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/pipeline"
	"earshot/protocol"
	"earshot/stages"
	"earshot/stages/stagestest"
)

func TestListenRefusesBadKeysBeforeAnyDial(t *testing.T) {
	g := newGateway(t, pipeline.Config{}, false)
	for _, tc := range []struct {
		name, header, reason string
	}{
		{"missing", "", "Authorization header not found"},
		{"wrong key", "Bearer nope", "Invalid authorization token"},
		{"wrong scheme", "Token " + testKey, "Invalid authorization token"},
		{"three parts", "Bearer " + testKey + " x", "Invalid authorization token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("Authorization", tc.header)
			}
			c, _, err := websocket.Dial(context.Background(), g.base, &websocket.DialOptions{HTTPClient: g.client, HTTPHeader: h})
			td.Require(t).CmpNoError(err)
			defer c.CloseNow()
			code, reason := closeOf(t, c)
			td.Cmp(t, code, websocket.StatusPolicyViolation)
			td.Cmp(t, reason, tc.reason)
		})
	}
	td.Cmp(t, g.p.Count.Load(), int64(0), "no upstream dial")
}

func TestListenRefusesBadParamsBeforeAnyDial(t *testing.T) {
	g := newGateway(t, pipeline.Config{}, false)
	for _, tc := range []struct{ query, reason string }{
		{"sample_rate=abc", `sample_rate must be a positive integer, got "abc"`},
		{"sample_rate=-16000", `sample_rate must be a positive integer, got "-16000"`},
		{"sample_rate=0", `sample_rate must be a positive integer, got "0"`},
		{"language=xx", "The language is not supported, xx"},
		{"channels=3", `channels must be 1 to 2, got 3`},
		{"channels=0", `channels must be 1 to 8, got "0"`},
		{"channels=two", `channels must be 1 to 8, got "two"`},
	} {
		t.Run(tc.query, func(t *testing.T) {
			c := g.dial(t, tc.query, testKey)
			code, reason := closeOf(t, c)
			td.Cmp(t, code, websocket.StatusPolicyViolation)
			td.Cmp(t, reason, tc.reason)
		})
	}
	td.Cmp(t, g.p.Count.Load(), int64(0), "no upstream dial")
}

// TestListenRefusesAnUndecodableFormatWith1003: a codec the gateway does
// not know, or Opus at a rate it cannot produce, closes with 1003 and a
// reason naming it, before any upstream dial.
func TestListenRefusesAnUndecodableFormatWith1003(t *testing.T) {
	g := newGateway(t, pipeline.Config{}, false)
	for _, tc := range []struct{ query, reason string }{
		{"codec=mp3", `codec "mp3" is not supported (pcm8, pcm16, mulaw8, mulaw16, opus, opus_fs320`},
		{"codec=opus&sample_rate=44100", "codec opus cannot produce sample_rate 44100 (only 8000, 12000, 16000, 24000, 48000)"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			c := g.dial(t, tc.query, testKey)
			code, reason := closeOf(t, c)
			td.Cmp(t, code, websocket.StatusUnsupportedData)
			td.Cmp(t, reason, td.HasPrefix(tc.reason))
		})
	}
	td.Cmp(t, g.p.Count.Load(), int64(0), "no upstream dial")
}

// TestListenSession runs a whole session on fake time: the status sequence,
// audio (with a half sample split across frames, a ping answer and a non-JSON
// text frame) reaching the upstream, segments coming back, the ping, and
// the upstream stream ended properly when the client leaves.
func TestListenSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateway(t, pipeline.Config{}, true)
		began := time.Now()
		c := g.dial(t, "language=en&sample_rate=16000&codec=pcm16", testKey)
		ctx := context.Background()
		td.Cmp(t, statuses(t, c), []string{"initiating", "in_progress_conversations_processing", "stt_initiating"})

		d := <-g.p.Dials
		td.Cmp(t, d.Config, stages.StreamConfig{SampleRateHz: 16000, Channels: 1, Language: "en"})
		up := stagestest.NewStream(64)
		d.Accept(up)
		td.Cmp(t, next(t, c).Status, "ready")

		audio := make([]byte, 3200)
		for i := range audio {
			audio[i] = byte(i)
		}
		td.CmpNoError(t, c.Write(ctx, websocket.MessageBinary, audio[:1001]))
		td.CmpNoError(t, c.Write(ctx, websocket.MessageBinary, []byte{0x8A, 0x00}))
		td.CmpNoError(t, c.Write(ctx, websocket.MessageText, []byte("not json")))
		td.CmpNoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"type":"speaker_assigned","speaker_id":1}`)))
		td.CmpNoError(t, c.Write(ctx, websocket.MessageBinary, audio[1001:]))
		var got []byte
		for len(got) < len(audio) {
			got = append(got, <-up.Audio...)
		}
		td.Cmp(t, got, audio, "every byte upstream, in order, the half sample carried")

		up.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 2, Words: []stages.Word{
			{Word: "hey", Punctuated: "Hey,", StartSec: 0.5, EndSec: 0.8, Speaker: 1, Confidence: 0.9},
			{Word: "there", Punctuated: "there.", StartSec: 0.9, EndSec: 1.3, Speaker: 1, Confidence: 0.8},
		}})
		sent := time.Now()
		e := next(t, c)
		td.Cmp(t, time.Since(sent), 600*time.Millisecond, "segments flushed every 0.6 s")
		td.Cmp(t, e.Raw, td.JSON(`[{
			"id": $id, "text": "Hey, there.", "speaker": "SPEAKER_1", "speaker_id": 1,
			"is_user": false, "person_id": null, "start": 0, "end": 0.8,
			"translations": [], "speech_profile_processed": false, "stt_provider": "fake"
		}]`, td.Tag("id", td.Re(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`))))

		e = next(t, c)
		td.Cmp(t, e.Ping, true, "ping 10 s after the session started")
		td.Cmp(t, time.Since(began), 10*time.Second)

		td.CmpNoError(t, c.Close(websocket.StatusNormalClosure, "bye"))
		left := time.Now()
		endOnCloseStream(up)
		<-up.Closed()
		td.Cmp(t, time.Since(left), td.Lt(time.Second))
		synctest.Wait()
		td.Cmp(t, g.srv.Sessions(), 0)
	})
}

func TestListenInactivityClosesWith1001(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateway(t, pipeline.Config{}, true)
		c := g.dial(t, "", testKey)
		statuses(t, c)
		up := stagestest.NewStream(64)
		(<-g.p.Dials).Accept(up)
		start := time.Now()
		code, reason := closeOf(t, c) // pings are read and skipped
		td.Cmp(t, code, websocket.StatusGoingAway)
		td.Cmp(t, reason, "inactivity timeout")
		td.Cmp(t, time.Since(start), 90*time.Second)
		td.Cmp(t, <-up.Controls, stages.ControlKeepAlive, "the upstream was kept alive meanwhile")
		endOnCloseStream(up)
	})
}

func TestListenOversizedFrameCloses1009AndEndsUpstreamProperly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateway(t, pipeline.Config{ReadLimitBytes: 4096}, true)
		c := g.dial(t, "sample_rate=16000&codec=pcm16", testKey)
		statuses(t, c)
		up := stagestest.NewStream(64)
		(<-g.p.Dials).Accept(up)
		next(t, c) // ready
		td.CmpNoError(t, c.Write(context.Background(), websocket.MessageBinary, make([]byte, 320)))
		<-up.Audio
		_ = c.Write(context.Background(), websocket.MessageBinary, make([]byte, 5000))
		code, _ := closeOf(t, c)
		td.Cmp(t, code, websocket.StatusMessageTooBig)
		td.Cmp(t, <-up.Controls, stages.ControlCloseStream, "the upstream stream is ended properly")
		up.EndNormally()
		synctest.Wait()
		td.Cmp(t, g.srv.Sessions(), 0)
	})
}

func TestListenUpstreamPermanentFailureClosesWithReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateway(t, pipeline.Config{}, true)
		c := g.dial(t, "", testKey)
		statuses(t, c)
		(<-g.p.Dials).Refuse(&stages.UpstreamError{HTTPStatus: 401, Code: "INVALID_AUTH", Reason: "Invalid credentials."})
		td.Cmp(t, next(t, c).Raw, td.JSON(`{"type": "service_status", "status": "stt_failed",
			"status_text": "INVALID_AUTH: Invalid credentials.", "provider": "fake", "reason": "initialization_failed",
			"outcome": "config_error", "retryable": false, "retry_after": null}`), "Omi's stt_failed comes before the close")
		code, reason := closeOf(t, c)
		td.Cmp(t, code, websocket.StatusInternalError)
		td.Cmp(t, reason, protocol.CloseReasonSTTUnavailable)
		td.Cmp(t, g.p.Count.Load(), int64(1), "a permanent error is not retried")
		err := g.srv.Ready()
		td.CmpTrue(t, errors.Is(err, pipeline.ErrUpstreamBroken), "not ready while the upstream refuses for good")
		td.Cmp(t, err.Error(), td.Contains("INVALID_AUTH"))

		c2 := g.dial(t, "", testKey) // sessions are still served, so a fix is noticed
		statuses(t, c2)
		up := stagestest.NewStream(8)
		(<-g.p.Dials).Accept(up)
		td.Cmp(t, next(t, c2).Status, "ready")
		td.CmpNoError(t, g.srv.Ready(), "ready again after a connect succeeded")
		go endOnCloseStream(up)
	})
}

func TestShutdownDrainsWith1012(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateway(t, pipeline.Config{}, true)
		c := g.dial(t, "", testKey)
		statuses(t, c)
		up := stagestest.NewStream(64)
		(<-g.p.Dials).Accept(up)
		next(t, c)
		go endOnCloseStream(up)
		type closed struct {
			code   websocket.StatusCode
			reason string
		}
		got := make(chan closed, 1)
		go func() {
			code, reason := closeOf(t, c)
			got <- closed{code, reason}
		}()
		td.CmpNoError(t, g.srv.Shutdown(context.Background()))
		td.Cmp(t, g.srv.Ready(), pipeline.ErrDraining)
		td.Cmp(t, <-got, closed{websocket.StatusServiceRestart, "service restart"})
		td.Cmp(t, g.srv.Sessions(), 0)
	})
}

func TestHTTPEndpoints(t *testing.T) {
	g := newGateway(t, pipeline.Config{}, false)
	get := func(path string) (int, string) {
		u := "http" + strings.TrimPrefix(strings.TrimSuffix(g.base, "/v4/listen"), "ws") + path
		resp, err := g.client.Get(u)
		td.Require(t).CmpNoError(err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		td.Require(t).CmpNoError(err)
		return resp.StatusCode, string(b)
	}
	code, _ := get("/healthz")
	td.Cmp(t, code, 200)
	code, _ = get("/readyz")
	td.Cmp(t, code, 200)
	code, body := get("/metrics")
	td.Cmp(t, code, 200)
	td.Cmp(t, body, td.All(
		td.Contains("earshot_sessions_active 0"),
		td.Contains("earshot_upstream_connect_attempts_total 0"),
		td.Contains("process_resident_memory_bytes"),
	))
	td.CmpNoError(t, g.srv.Shutdown(context.Background()))
	code, _ = get("/readyz")
	td.Cmp(t, code, 503)
}

// TestListenClientThatStopsReadingIsClosed: a client that stops reading
// blocks the gateway's next write (here the ready status once the
// upstream is up, over an in-memory pipe that holds nothing); after
// WriteTimeoutMs the connection is
// closed, the session ends as a slow client's (1013) and its upstream
// stream is ended properly, instead of waiting for the client's TCP.
func TestListenClientThatStopsReadingIsClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ended := make(chan pipeline.SessionSummary, 1)
		g := newGatewayWith(t, pipeline.Config{WriteTimeoutMs: 3000}, pipeline.Deps{
			OnSessionEnd: func(s pipeline.SessionSummary) { ended <- s },
		}, true)
		c := g.dial(t, "", testKey)
		statuses(t, c)
		up := stagestest.NewStream(64)
		(<-g.p.Dials).Accept(up)
		start := time.Now()
		go endOnCloseStream(up)
		sum := <-ended // the client reads nothing more
		td.Cmp(t, time.Since(start), 3*time.Second, "the ready status, cut off after 3 s")
		td.Cmp(t, sum.CloseCode, int(websocket.StatusTryAgainLater))
		td.Cmp(t, stagestest.MetricValue(t, g.set, "earshot_client_write_timeouts_total"), 1.0)
		td.Cmp(t, stagestest.MetricValue(t, g.set, `earshot_sessions_closed_total{code="1013"}`), 1.0)
	})
}

// TestListenRecordsTheClientsCloseCode: a client that closes with its own
// code (1001 going away, or an application's 4000) is recorded with it,
// not with the normal close the server answers with after (on /metrics
// codes outside 1000-1015 count as "other").
func TestListenRecordsTheClientsCloseCode(t *testing.T) {
	for code, label := range map[websocket.StatusCode]string{websocket.StatusGoingAway: "1001", 4000: "other"} {
		synctest.Test(t, func(t *testing.T) {
			ended := make(chan pipeline.SessionSummary, 1)
			g := newGatewayWith(t, pipeline.Config{}, pipeline.Deps{
				OnSessionEnd: func(s pipeline.SessionSummary) { ended <- s },
			}, true)
			c := g.dial(t, "", testKey)
			statuses(t, c)
			up := stagestest.NewStream(64)
			(<-g.p.Dials).Accept(up)
			td.Cmp(t, next(t, c).Status, "ready")
			go endOnCloseStream(up)
			go func() { _ = c.Close(code, "bye") }()
			td.Cmp(t, (<-ended).CloseCode, int(code))
			td.Cmp(t, stagestest.MetricValue(t, g.set, `earshot_sessions_closed_total{code="`+label+`"}`), 1.0)
		})
	}
}

// TestListenAudioFasterThanThePaceCloses1008: a client may send a backlog
// (PaceBurstMs of audio at once) and then MaxPace times real time; one that
// keeps pushing audio faster is closed with 1008 and the reason, and what
// it sent before the limit still reaches the upstream.
func TestListenAudioFasterThanThePaceCloses1008(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateway(t, pipeline.Config{MaxPace: 1.5, PaceBurstMs: 2000}, true)
		c := g.dial(t, "sample_rate=16000&codec=pcm16", testKey)
		statuses(t, c)
		up := stagestest.NewStream(1024)
		(<-g.p.Dials).Accept(up)
		go endOnCloseStream(up)
		frame := make([]byte, 3200) // 100 ms
		// 2 s at once (the burst), then 100 ms every 66 ms (1.5x): kept.
		for range 20 {
			td.Require(t).CmpNoError(c.Write(t.Context(), websocket.MessageBinary, frame))
		}
		for range 30 {
			time.Sleep(67 * time.Millisecond)
			td.Require(t).CmpNoError(c.Write(t.Context(), websocket.MessageBinary, frame))
		}
		// Then twice as fast as real time: closed within a second or so.
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 40 {
				time.Sleep(50 * time.Millisecond)
				if c.Write(t.Context(), websocket.MessageBinary, frame) != nil {
					return
				}
			}
		}()
		code, reason := closeOf(t, c)
		<-done
		synctest.Wait()
		got := 0
		for len(up.Audio) > 0 {
			got += len(<-up.Audio)
		}
		td.Cmp(t, got, td.Gte(50*len(frame)), "the backlog and the audio at 1.5x went upstream")
		td.Cmp(t, code, websocket.StatusPolicyViolation)
		td.Cmp(t, reason, "audio sent faster than 1.5× real time")
		td.Cmp(t, stagestest.MetricValue(t, g.set, "earshot_client_too_fast_total"), 1.0)
	})
}

// TestListenPacesCompressedAudioByWhatItDecodes: the pace counts the audio
// a compressed frame decodes to, not its bytes. 100 ms of µ-law is 1,600
// bytes (half what 100 ms of PCM takes), so a client sending it twice as
// fast as real time is closed as a PCM one would be.
func TestListenPacesCompressedAudioByWhatItDecodes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateway(t, pipeline.Config{MaxPace: 1.5, PaceBurstMs: 2000}, true)
		c := g.dial(t, "sample_rate=16000&codec=mulaw16", testKey)
		statuses(t, c)
		up := stagestest.NewStream(1024)
		(<-g.p.Dials).Accept(up)
		go endOnCloseStream(up)
		frame := make([]byte, 1600) // 100 ms of µ-law at 16 kHz
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 200 { // 20 s of audio in 10 s
				time.Sleep(50 * time.Millisecond)
				if c.Write(t.Context(), websocket.MessageBinary, frame) != nil {
					return
				}
			}
		}()
		code, reason := closeOf(t, c)
		<-done
		synctest.Wait()
		got := 0
		for len(up.Audio) > 0 {
			got += len(<-up.Audio)
		}
		td.Cmp(t, code, websocket.StatusPolicyViolation)
		td.Cmp(t, reason, "audio sent faster than 1.5× real time")
		td.Cmp(t, got%2, 0, "decoded PCM went upstream")
		td.Cmp(t, got, td.Between(2*3200*20, 2*3200*60), "the burst and what followed at up to 1.5x, as 16-bit PCM")
	})
}
