package client_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/client"
	"earshot/emulate"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/protocol"
)

// gateway starts an emulator (energy-test recognizer) and a gateway in
// process and returns the gateway's listen URL.
func gateway(t *testing.T, emu emulate.Config, cfg pipeline.Config) string {
	t.Helper()
	emu.Recognizer = emulate.EnergyTest
	_, dg := testrig.StartEmulator(t, emu)
	_, url := testrig.StartGateway(t, dg, cfg)
	return url
}

// conversationConfig streams testrig.Conversation: 5 s in which the
// energy-test recognizer hears t500, t1500 (speaker 0), t3000 (speaker 1)
// and t4000 (speaker 0).
func conversationConfig(url string) client.Config {
	return client.Config{
		URL:        url,
		Key:        testrig.ClientKey,
		Language:   "en",
		SampleRate: 16000,
		Codec:      "pcm16",
		Audio:      testrig.Conversation(16000),
		Mode:       client.ModePodcast,
		WaitFinal:  time.Second,
		Ref:        "t500 t1500 t3000 t4000",
	}
}

// wantConversation is the session result of a complete Conversation.
func wantConversation(session int) any {
	return td.SStruct(client.SessionResult{
		Session:         session,
		Connected:       true,
		CloseCode:       1000,
		ClosedBy:        client.ClosedByClient,
		AudioSentS:      5,
		Chunks:          50,
		SpeechSent:      true,
		Statuses:        []string{"initiating", "in_progress_conversations_processing", "stt_initiating", "ready"},
		Segments:        3,
		Updates:         3,
		Words:           4,
		Transcript:      "t500 t1500 t3000 t4000",
		WER:             &client.WERResult{Rate: 0, Edits: 0, RefWords: 4, HypWords: 4},
		SegmentsDeleted: 0,
	}, td.StructFields{
		"HeldS":          td.Between(0.9, 10.0),
		"CloseReason":    td.Ignore(),
		"Pings":          td.Ignore(),
		"FirstSegmentMs": td.Ptr(td.Between(0.0, 10_000.0)),
		"UpdateLatency":  td.Struct(client.Percentiles{Count: 3}, td.StructFields{"=P*": td.Between(0.0, 10_000.0), "Max": td.Gt(0.0)}),
		"SegmentList": td.Slice([]client.Segment{}, td.ArrayEntries{
			0: seg(client.Segment{Text: "t500 t1500", Speaker: "SPEAKER_0", SpeakerID: 0, Start: 0, End: 1.4}),
			1: seg(client.Segment{Text: "t3000", Speaker: "SPEAKER_1", SpeakerID: 1, Start: 2.5, End: 2.9}),
			2: seg(client.Segment{Text: "t4000", Speaker: "SPEAKER_0", SpeakerID: 0, Start: 3.5, End: 3.8}),
		}),
	})
}

// seg matches a segment with any UUID.
// seg is a segment from the gateway in front of the emulator.
func seg(want client.Segment) td.TestDeep {
	want.STTProvider, want.Translations = "deepgram", []protocol.Translation{}
	return td.SStruct(want, td.StructFields{"ID": td.Re(`^[0-9a-f-]{36}$`)})
}

func TestRunPodcast(t *testing.T) {
	cfg := conversationConfig(gateway(t, emulate.Config{}, pipeline.Config{PingIntervalMs: 50}))
	cfg.Pace = 20 // 5 s of audio in 250 ms, long enough for pings
	var (
		mu     sync.Mutex
		events []client.Event
	)
	cfg.OnEvent = func(e client.Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	rep, err := client.Run(context.Background(), cfg)
	td.Require(t).CmpNoError(err, "%+v", rep)
	td.Cmp(t, rep.Sessions, td.Slice([]client.SessionResult{}, td.ArrayEntries{0: wantConversation(0)}))
	td.Cmp(t, rep.Sessions[0].Pings, td.Gt(0), "pings answered")
	td.Cmp(t, rep.SpeechAtS, td.Ptr(0.5))
	td.Cmp(t, rep.AudioS, 5.0)
	td.Cmp(t, rep.Aggregate, td.SStruct(client.Aggregate{
		Sessions: 1, Connected: 1, Failed: 0,
		CloseCodes: map[string]int{"1000": 1},
		AudioSentS: 5, Segments: 3, Updates: 3, Words: 4,
		WER: &client.WERResult{RefWords: 4, HypWords: 4},
	}, td.StructFields{
		"HeldS":         td.Gt(0.0),
		"FirstSegment":  td.Struct(client.Percentiles{Count: 1}, nil),
		"UpdateLatency": td.Struct(client.Percentiles{Count: 3}, nil),
	}))

	mu.Lock()
	defer mu.Unlock()
	kinds := map[client.EventKind]int{}
	for _, e := range events {
		kinds[e.Kind]++
	}
	td.Cmp(t, kinds, map[client.EventKind]int{
		client.EventConnected: 1, client.EventStatus: 4, client.EventSegment: 3, client.EventClosed: 1,
	})
	// At 20x, a segment's end is sent 200 ms of audio (the emulator's gap)
	// before the gateway can know it ended: latency is real, and short.
	for _, e := range events {
		if e.Kind == client.EventSegment {
			td.Cmp(t, e.New, true)
			td.Cmp(t, e.Latency, td.Between(time.Duration(0), 5*time.Second))
		}
	}
}

func TestRunLoops(t *testing.T) {
	cfg := conversationConfig(gateway(t, emulate.Config{}, pipeline.Config{}))
	cfg.Loops = 2
	cfg.Ref = ""
	rep, err := client.Run(context.Background(), cfg)
	td.Require(t).CmpNoError(err)
	s := rep.Sessions[0]
	td.Cmp(t, s.AudioSentS, 10.0)
	td.Cmp(t, s.Chunks, 100)
	td.Cmp(t, s.Transcript, "t500 t1500 t3000 t4000 t5500 t6500 t8000 t9000")
	td.Cmp(t, s.Words, 8)
	td.Cmp(t, s.WER, td.Nil())
	td.Cmp(t, s.Failed, false)
}

func TestRunDisconnect(t *testing.T) {
	url := gateway(t, emulate.Config{}, pipeline.Config{})
	cfg := conversationConfig(url)
	cfg.Mode = client.ModeDisconnect
	cfg.DisconnectAfter = 700 * time.Millisecond
	cfg.Pace = 1
	start := time.Now()
	rep, err := client.Run(context.Background(), cfg)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, time.Since(start), td.Between(700*time.Millisecond, 3*time.Second))
	td.Cmp(t, rep.Sessions, td.Slice([]client.SessionResult{}, td.ArrayEntries{0: td.SStruct(client.SessionResult{
		Connected:  true,
		CloseCode:  1000,
		ClosedBy:   client.ClosedByClient,
		SpeechSent: true,
	}, td.StructFields{
		"Statuses":       td.Len(4),
		"HeldS":          td.Between(0.65, 1.5),
		"AudioSentS":     td.Between(0.6, 0.9),
		"Chunks":         td.Between(6, 9),
		"CloseReason":    td.Ignore(),
		"Segments":       td.Ignore(), // may or may not have come
		"Updates":        td.Ignore(),
		"Words":          td.Ignore(),
		"Transcript":     td.Ignore(),
		"FirstSegmentMs": td.Ignore(),
		"UpdateLatency":  td.Ignore(),
		"SegmentList":    td.Ignore(),
		"WER":            td.Nil(), // not all the audio was sent
	})}))
	// The gateway saw the session end.
	for deadline := time.Now().Add(5 * time.Second); testrig.Metric(t, url, "earshot_sessions_active") != 0; {
		if time.Now().After(deadline) {
			t.Fatal("the gateway still has the session")
		}
		time.Sleep(10 * time.Millisecond)
	}
	td.Cmp(t, testrig.Metric(t, url, `earshot_sessions_closed_total{code="1000"}`), 1.0)
}

func TestRunDisconnectWaitsForTheDeadline(t *testing.T) {
	cfg := conversationConfig(gateway(t, emulate.Config{}, pipeline.Config{}))
	cfg.Mode = client.ModeDisconnect
	cfg.DisconnectAfter = 1500 * time.Millisecond
	cfg.Pace = 0 // the audio is all sent long before
	rep, err := client.Run(context.Background(), cfg)
	td.Require(t).CmpNoError(err)
	s := rep.Sessions[0]
	td.Cmp(t, s.HeldS, td.Between(1.45, 3.0))
	td.Cmp(t, s.AudioSentS, 5.0)
	td.Cmp(t, s.Transcript, "t500 t1500 t3000 t4000", "1.5 s is time enough for the segments")
	td.Cmp(t, s.WER, td.NotNil())
}

func TestRunConcurrent(t *testing.T) {
	cfg := conversationConfig(gateway(t, emulate.Config{}, pipeline.Config{}))
	cfg.Mode = client.ModeConcurrent
	cfg.Sessions = 3
	cfg.Stagger = 150 * time.Millisecond
	cfg.Pace = 20
	var (
		mu      sync.Mutex
		dialing = map[int]time.Time{} // when each session began to connect
	)
	cfg.OnEvent = func(e client.Event) {
		if e.Kind == client.EventConnected {
			mu.Lock()
			defer mu.Unlock()
			dialing[e.Session] = time.Now().Add(-e.Elapsed)
		}
	}
	rep, err := client.Run(context.Background(), cfg)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, rep.Sessions, td.Slice([]client.SessionResult{}, td.ArrayEntries{0: wantConversation(0), 1: wantConversation(1), 2: wantConversation(2)}))
	td.Cmp(t, rep.Aggregate, td.SStruct(client.Aggregate{
		Sessions: 3, Connected: 3,
		CloseCodes: map[string]int{"1000": 3},
		AudioSentS: 15, Segments: 9, Updates: 9, Words: 12,
		WER: &client.WERResult{RefWords: 12, HypWords: 12},
	}, td.StructFields{
		"HeldS":         td.Gt(0.0),
		"FirstSegment":  td.Struct(client.Percentiles{Count: 3}, nil),
		"UpdateLatency": td.Struct(client.Percentiles{Count: 9}, nil),
	}))
	mu.Lock()
	defer mu.Unlock()
	td.Cmp(t, dialing[1].Sub(dialing[0]), td.Between(140*time.Millisecond, time.Second), "staggered")
	td.Cmp(t, dialing[2].Sub(dialing[0]), td.Between(290*time.Millisecond, 2*time.Second), "staggered")
}

func TestRunFailures(t *testing.T) {
	url := gateway(t, emulate.Config{}, pipeline.Config{})

	t.Run("bad key: 1008 from the server", func(t *testing.T) {
		cfg := conversationConfig(url)
		cfg.Key = "wrong"
		rep, err := client.Run(context.Background(), cfg)
		td.CmpErrorIs(t, err, client.ErrFailed)
		td.CmpString(t, err, "1 of 1 sessions: session failed")
		s := rep.Sessions[0]
		td.Cmp(t, s.Failed, true)
		td.Cmp(t, s.CloseCode, 1008)
		td.Cmp(t, s.ClosedBy, client.ClosedByServer)
		td.Cmp(t, s.Failure, td.HasPrefix("closed by server with 1008 "))
		td.Cmp(t, rep.Aggregate.Failed, 1)
		td.Cmp(t, rep.Aggregate.CloseCodes, map[string]int{"1008": 1})
	})

	t.Run("nothing listening", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		td.Require(t).CmpNoError(err)
		addr := ln.Addr().String()
		_ = ln.Close()
		cfg := conversationConfig("ws://" + addr + "/v4/listen")
		rep, err := client.Run(context.Background(), cfg)
		td.CmpErrorIs(t, err, client.ErrFailed)
		td.Cmp(t, rep.Sessions[0], td.SStruct(client.SessionResult{
			Failed: true, CloseCode: -1,
		}, td.StructFields{"Failure": td.HasPrefix("connect: ")}))
		td.Cmp(t, rep.Aggregate.Connected, 0)
	})

	t.Run("not a websocket", func(t *testing.T) {
		hs := httptest.NewServer(http.NotFoundHandler())
		t.Cleanup(hs.Close)
		cfg := conversationConfig("ws" + strings.TrimPrefix(hs.URL, "http") + "/v4/listen")
		rep, err := client.Run(context.Background(), cfg)
		td.CmpErrorIs(t, err, client.ErrFailed)
		td.Cmp(t, rep.Sessions[0].Failure, td.HasPrefix("connect: HTTP 404"))
	})

	t.Run("speech but no segments", func(t *testing.T) {
		cfg := conversationConfig(gateway(t, emulate.Config{Faults: emulate.Faults{Stall: true}}, pipeline.Config{}))
		cfg.WaitFinal = 300 * time.Millisecond
		rep, err := client.Run(context.Background(), cfg)
		td.CmpErrorIs(t, err, client.ErrFailed)
		s := rep.Sessions[0]
		td.Cmp(t, s.CloseCode, 1000)
		td.Cmp(t, s.Segments, 0)
		td.Cmp(t, s.Failure, "no segments although the audio sent had speech")
		td.Cmp(t, s.WER, td.Ptr(client.WERResult{Rate: 1, Edits: 4, RefWords: 4}))
	})

	t.Run("silence and no segments is fine", func(t *testing.T) {
		cfg := conversationConfig(url)
		cfg.Audio = testrig.Signal(16000, 1000)
		cfg.Ref = ""
		cfg.WaitFinal = 300 * time.Millisecond
		rep, err := client.Run(context.Background(), cfg)
		td.CmpNoError(t, err)
		td.Cmp(t, rep.SpeechAtS, td.Nil())
		td.Cmp(t, rep.Sessions[0].SpeechSent, false)
		td.Cmp(t, rep.Sessions[0].Segments, 0)
	})

	t.Run("interrupted", func(t *testing.T) {
		cfg := conversationConfig(url)
		cfg.Pace = 1
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		rep, err := client.Run(ctx, cfg)
		td.CmpErrorIs(t, err, client.ErrFailed)
		s := rep.Sessions[0]
		td.Cmp(t, s.Failure, "interrupted")
		td.Cmp(t, s.CloseCode, 1000)
		td.Cmp(t, s.ClosedBy, client.ClosedByClient)
		td.Cmp(t, s.HeldS, td.Between(0.2, 2.0))
	})
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*client.Config)
		err  string
	}{
		{"mode", func(c *client.Config) { c.Mode = "talk" }, `unknown mode "talk" (podcast, disconnect, concurrent)`},
		{"codec", func(c *client.Config) { c.Codec = "opus" }, `codec "opus" needs Packets and PacketSamples (see Encode)`},
		{"packets", func(c *client.Config) { c.Packets = [][]byte{{1, 2, 3}} }, "codec pcm16 sends Audio, not Packets"},
		{"scheme", func(c *client.Config) { c.URL = "http://x/v4/listen" }, `bad url "http://x/v4/listen": the scheme must be ws or wss`},
		{"rate", func(c *client.Config) { c.SampleRate = 0 }, "bad sample rate 0"},
		{"pace", func(c *client.Config) { c.Pace = -1 }, "bad pace -1 (0 or more)"},
		{"disconnect-after", func(c *client.Config) { c.Mode = client.ModeDisconnect }, "mode disconnect needs a positive disconnect-after, got 0s"},
		{"sessions", func(c *client.Config) { c.Mode = client.ModeConcurrent }, "mode concurrent needs at least 1 session, got 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := conversationConfig("ws://127.0.0.1:1/v4/listen")
			tc.edit(&cfg)
			rep, err := client.Run(context.Background(), cfg)
			td.Cmp(t, rep, td.Nil())
			td.CmpString(t, err, tc.err)
		})
	}
}

// TestProtocol runs a session against a scripted server: pings must be
// answered with 0x8A 0x00, segments upserted by id, segments_deleted
// honoured, and a server close reported.
func TestProtocol(t *testing.T) {
	answered := make(chan []byte, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" || r.URL.Query().Get("codec") != "pcm8" ||
			r.URL.Query().Get("sample_rate") != "8000" || r.URL.Query().Get("language") != "de" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		// Wait for audio, then ping.
		if _, _, err := c.Read(ctx); err != nil {
			return
		}
		_ = c.Write(ctx, websocket.MessageText, []byte("ping"))
		for {
			typ, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			if typ == websocket.MessageBinary && len(b) <= 2 {
				answered <- b
				break
			}
		}
		for _, msg := range []string{
			`{"type":"service_status","status":"ready"}`,
			`[{"id":"a","text":"Hello","speaker":"SPEAKER_0","start":0,"end":0.4},{"id":"b","text":"world","speaker":"SPEAKER_1","start":0.5,"end":0.9}]`,
			`[{"id":"a","text":"Hello there,","speaker":"SPEAKER_0","start":0,"end":0.7}]`,
			`{"type":"segments_deleted","segment_ids":["b","unknown"]}`,
			`[{"id":"c","text":"friend.","speaker":"SPEAKER_0","start":1,"end":1.2}]`,
			`[{"id":"c","text":"friend.","speaker":"SPEAKER_0","start":1,"end":1.2}]`,
			`not json`, `{"type":"memory_created"}`,
		} {
			_ = c.Write(ctx, websocket.MessageText, []byte(msg))
		}
		time.Sleep(100 * time.Millisecond)
		_ = c.Close(websocket.StatusInternalError, "boom")
	}))
	t.Cleanup(hs.Close)

	audio := make([]byte, 8000*2) // 1 s of silence
	rep, err := client.Run(context.Background(), client.Config{
		URL: "ws" + strings.TrimPrefix(hs.URL, "http") + "/v4/listen", Key: "k", Language: "de",
		SampleRate: 8000, Codec: "pcm8", Audio: audio, Pace: 2, Mode: client.ModePodcast,
		WaitFinal: 5 * time.Second, Ref: "hello there friend",
	})
	td.CmpErrorIs(t, err, client.ErrFailed)
	td.Cmp(t, <-answered, []byte{0x8A, 0x00})
	td.Cmp(t, rep.Sessions[0], td.SStruct(client.SessionResult{
		Connected:       true,
		Failed:          true,
		Failure:         `closed by server with 1011 boom`,
		CloseCode:       1011,
		CloseReason:     "boom",
		ClosedBy:        client.ClosedByServer,
		Statuses:        []string{"ready"},
		Pings:           1,
		Segments:        2,
		SegmentsDeleted: 1,
		Updates:         5,
		Words:           3,
		Transcript:      "Hello there, friend.",
		SegmentList: []client.Segment{
			{ID: "a", Text: "Hello there,", Speaker: "SPEAKER_0", Start: 0, End: 0.7},
			{ID: "c", Text: "friend.", Speaker: "SPEAKER_0", Start: 1, End: 1.2},
		},
	}, td.StructFields{
		"HeldS":          td.Between(0.1, 3.0),
		"AudioSentS":     td.Between(0.1, 1.0),
		"Chunks":         td.Between(1, 10),
		"FirstSegmentMs": td.NotNil(),
		// a, b, a extended, c; not c again with the same end.
		"UpdateLatency": td.Struct(client.Percentiles{Count: 4}, nil),
		"WER":           td.Nil(), // the server cut the audio short
	}))
}

// TestRunWaitFirst: a session without any segment yet waits WaitFirst
// (not only WaitFinal) after its audio for the first one, so a slow
// recognizer is not cut off; without it the session gives up first.
func TestRunWaitFirst(t *testing.T) {
	const delay = 800 * time.Millisecond // the server's first segment, after the audio
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		c.SetReadLimit(1 << 20)
		go func() { // drain the audio; return when the client leaves
			for {
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
			}
		}()
		timer := time.NewTimer(delay)
		defer timer.Stop()
		<-timer.C
		b, _ := protocol.EncodeSegments([]protocol.Segment{{ID: "s1", Text: "t500", Speaker: "SPEAKER_0",
			Translations: []protocol.Translation{}}})
		_ = c.Write(ctx, websocket.MessageText, b)
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/v4/listen"
	for _, tc := range []struct {
		waitFirst time.Duration
		segments  int
	}{{0, 0}, {10 * time.Second, 1}} {
		cfg := conversationConfig(url)
		cfg.WaitFinal, cfg.WaitFirst = 100*time.Millisecond, tc.waitFirst
		rep, _ := client.Run(context.Background(), cfg)
		td.Require(t).Len(rep.Sessions, 1)
		td.Cmp(t, rep.Sessions[0].Segments, tc.segments, "WaitFirst %v", tc.waitFirst)
	}
}
