package client

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ChunkDuration is the audio in one binary frame, as the app sends it.
const ChunkDuration = 100 * time.Millisecond

// Mode is one of the Omi app's live-test modes.
type Mode string

// The modes.
const (
	// ModePodcast streams the audio (Loops times) in one session, waits
	// for the last segments (until WaitFinal passes without an update),
	// and closes with 1000.
	ModePodcast Mode = "podcast"
	// ModeDisconnect streams in one session and closes it with 1000
	// DisconnectAfter after connecting, wherever the audio is (waiting
	// idle if the audio ended sooner).
	ModeDisconnect Mode = "disconnect"
	// ModeConcurrent runs Sessions podcast sessions, the i-th starting
	// i·Stagger after the first.
	ModeConcurrent Mode = "concurrent"
)

// Defaults.
const (
	DefaultURL        = "ws://127.0.0.1:8790/v4/listen"
	DefaultSampleRate = 16000
	DefaultWaitFinal  = 3 * time.Second
	// WaitFinalRounds bounds the wait after the audio: at most this many
	// times WaitFinal, however often segments keep coming.
	WaitFinalRounds        = 10
	DefaultDisconnectAfter = 5 * time.Second
	DefaultSessions        = 3
	DefaultStagger         = 3 * time.Second
	DefaultDialTimeout     = 15 * time.Second
	DefaultProgressEvery   = 10 * time.Second
)

// Config describes a run.
type Config struct {
	// URL is the /v4/listen endpoint (ws:// or wss://); language,
	// sample_rate and codec are set in its query, other parameters kept.
	URL string
	// Key is sent as "Authorization: Bearer <Key>".
	Key string
	// Language, if set, is the language parameter.
	Language string
	// SampleRate of Audio in Hz, and Codec: "pcm8" or "pcm16" (both raw
	// 16-bit little-endian PCM, sent in 100 ms chunks), or a codec whose
	// packets are in Packets.
	SampleRate int
	Codec      string
	// Audio is mono 16-bit little-endian PCM at SampleRate (see Prepare):
	// what is sent with a raw PCM codec, and what Packets encode (its
	// speech onset and length are measured).
	Audio []byte
	// Packets, for any codec but pcm8 and pcm16, are sent instead of Audio:
	// one binary frame each, paced at PacketSamples samples (at
	// SampleRate) per packet, as a device sends them. Encode makes them.
	Packets       [][]byte
	PacketSamples int
	// Loops is how many times the audio is sent, back to back (0 means 1).
	Loops int
	// Pace: 1 sends in real time, 10 ten times faster, 0 as fast as the
	// connection takes it.
	Pace float64
	// Mode, and its parameters: DisconnectAfter (ModeDisconnect), Sessions
	// and Stagger (ModeConcurrent).
	Mode            Mode
	DisconnectAfter time.Duration
	Sessions        int
	Stagger         time.Duration
	// WaitFinal is how long a session stays open after the audio without
	// a segment update before it closes: each update starts the wait
	// over (a gateway decoding a backlog keeps the session), up to
	// WaitFinalRounds times WaitFinal in all.
	WaitFinal time.Duration
	// WaitFirst, when longer than WaitFinal, is how long a session that
	// has had no segment yet waits after its audio for the first one (a
	// recognizer on a loaded machine can take a while to answer a burst
	// of audio sent faster than real time); once a segment came, WaitFinal
	// rules. 0: WaitFinal.
	WaitFirst time.Duration
	// Ref is the reference text of one pass of the audio ("" for none);
	// with Loops > 1 it is repeated as many times.
	Ref string
	// DialTimeout bounds each connect (0: DefaultDialTimeout).
	DialTimeout time.Duration
	// OnEvent, if set, sees live events. Calls are serialized.
	OnEvent func(Event)
	// OnProgress, if set, is called every ProgressEvery (0:
	// DefaultProgressEvery) while the run lasts.
	OnProgress    func(Progress)
	ProgressEvery time.Duration

	// HasSpeech and Origin are derived from Audio by Run (SpeechOnset):
	// whether it has speech, and where it starts in seconds.
	HasSpeech bool
	Origin    float64
}

func (c *Config) loops() int { return max(c.Loops, 1) }

// rawCodec reports whether codec sends Audio as it is.
func rawCodec(codec string) bool { return codec == "pcm8" || codec == "pcm16" }

// frames returns what one loop sends, one binary frame each, and the
// bytes of Audio each frame stands for.
func (c *Config) frames() ([][]byte, int) {
	if c.Packets != nil {
		return c.Packets, 2 * c.PacketSamples
	}
	chunk := max(c.SampleRate/10*2, 2)
	out := make([][]byte, 0, len(c.Audio)/chunk+1)
	for off := 0; off < len(c.Audio); off += chunk {
		out = append(out, c.Audio[off:min(off+chunk, len(c.Audio))])
	}
	return out, chunk
}

// frameSeconds is the audio one frame holds, in seconds.
func (c *Config) frameSeconds() float64 {
	if c.Packets != nil {
		return float64(c.PacketSamples) / float64(c.SampleRate)
	}
	return ChunkDuration.Seconds()
}

func (c *Config) dialTimeout() time.Duration {
	if c.DialTimeout > 0 {
		return c.DialTimeout
	}
	return DefaultDialTimeout
}

func (c *Config) readLimit() int64 { return 4 << 20 }

// Validate checks a Config before a run.
func (c *Config) Validate() error {
	switch {
	case c.SampleRate < 1:
		return fmt.Errorf("bad sample rate %d", c.SampleRate)
	case rawCodec(c.Codec) && c.Packets != nil:
		return fmt.Errorf("codec %s sends Audio, not Packets", c.Codec)
	case !rawCodec(c.Codec) && (len(c.Packets) == 0 || c.PacketSamples < 1):
		return fmt.Errorf("codec %q needs Packets and PacketSamples (see Encode)", c.Codec)
	case c.Pace < 0:
		return fmt.Errorf("bad pace %v (0 or more)", c.Pace)
	case c.Loops < 0:
		return fmt.Errorf("bad loops %d", c.Loops)
	case c.WaitFinal < 0:
		return fmt.Errorf("bad wait-final %v", c.WaitFinal)
	case c.WaitFirst < 0:
		return fmt.Errorf("bad wait-first %v", c.WaitFirst)
	}
	switch c.Mode {
	case ModePodcast:
	case ModeDisconnect:
		if c.DisconnectAfter <= 0 {
			return fmt.Errorf("mode disconnect needs a positive disconnect-after, got %v", c.DisconnectAfter)
		}
	case ModeConcurrent:
		if c.Sessions < 1 {
			return fmt.Errorf("mode concurrent needs at least 1 session, got %d", c.Sessions)
		}
		if c.Stagger < 0 {
			return fmt.Errorf("bad stagger %v", c.Stagger)
		}
	default:
		return fmt.Errorf("unknown mode %q (podcast, disconnect, concurrent)", c.Mode)
	}
	_, err := c.listenURL()
	return err
}

// EventKind tells what an Event reports.
type EventKind string

// The event kinds.
const (
	EventConnected EventKind = "connected"
	EventStatus    EventKind = "status"  // a service_status; Text is status[: status_text]
	EventSegment   EventKind = "segment" // a segment upsert
	EventDeleted   EventKind = "deleted" // segments_deleted; Text is the ids
	EventClosed    EventKind = "closed"  // Text says how
)

// Event is a live event of one session.
type Event struct {
	Session int
	Kind    EventKind
	// Elapsed is the time since the session began to connect.
	Elapsed time.Duration
	Text    string
	// Segment, New (first time this id is seen) and Latency (the update
	// latency, or -1 when the update did not extend the segment's end)
	// are set for EventSegment.
	Segment Segment
	New     bool
	Latency time.Duration
}

// Progress is a snapshot of a run.
type Progress struct {
	Elapsed time.Duration
	// Active sessions now; AudioSentS in total; Words now in all
	// transcripts.
	Active     int
	AudioSentS float64
	Words      int
}

type progress struct {
	active, audio, words atomic.Int64
}

// SessionResult is what one session measured.
type SessionResult struct {
	// Session is its index, from 0.
	Session   int  `json:"session"`
	Connected bool `json:"connected"`
	// Failed tells whether the session failed, and Failure why: it could
	// not connect; it was closed (by either side) with a code other than
	// 1000, or without a closing handshake (reported as 1006); it sent
	// audio with speech (SpeechSent) and got no segment, outside
	// ModeDisconnect; or the run was interrupted.
	Failed  bool   `json:"failed"`
	Failure string `json:"failure,omitempty"`
	// HeldS is how long the connection was open, in seconds.
	HeldS float64 `json:"held_s"`
	// CloseCode (-1 if never connected) and CloseReason are those of the
	// closing handshake; ClosedBy is "client" or "server".
	CloseCode   int    `json:"close_code"`
	CloseReason string `json:"close_reason"`
	ClosedBy    string `json:"closed_by,omitempty"`
	// AudioSentS is the audio sent, in seconds; Chunks the frames.
	AudioSentS float64 `json:"audio_sent_s"`
	Chunks     int     `json:"chunks"`
	// SpeechSent: the audio sent reached the first speech (SpeechOnset).
	SpeechSent bool `json:"speech_sent"`
	// Statuses are the service_status values in order; Pings the server
	// pings answered.
	Statuses []string `json:"statuses"`
	Pings    int      `json:"pings"`
	// Segments at the end (deleted ones removed), SegmentsDeleted, and
	// Updates (segment upserts received).
	Segments        int `json:"segments"`
	SegmentsDeleted int `json:"segments_deleted"`
	Updates         int `json:"updates"`
	// Words in Transcript, the live segments' texts in order of first
	// appearance.
	Words      int    `json:"words"`
	Transcript string `json:"transcript"`
	// WER against the reference, when one was given and all the audio
	// was sent.
	WER *WERResult `json:"wer,omitempty"`
	// FirstSegmentMs is the time from sending the first chunk to
	// receiving the first segment.
	FirstSegmentMs *float64 `json:"first_segment_ms"`
	// UpdateLatency: per segment update that is new or extends the
	// segment's end, the time from sending the chunk holding that end (on
	// the capture clock: the audio's first speech plus the segment's end)
	// to receiving the update.
	UpdateLatency Percentiles `json:"update_latency"`
	// SegmentList is the final segments.
	SegmentList []Segment `json:"segment_list"`
}

// Aggregate sums up the sessions of a run.
type Aggregate struct {
	Sessions  int `json:"sessions"`
	Connected int `json:"connected"`
	Failed    int `json:"failed"`
	// HeldS is the total connection time.
	HeldS float64 `json:"held_s"`
	// CloseCodes counts the sessions by close code.
	CloseCodes      map[string]int `json:"close_codes"`
	AudioSentS      float64        `json:"audio_sent_s"`
	Segments        int            `json:"segments"`
	SegmentsDeleted int            `json:"segments_deleted"`
	Updates         int            `json:"updates"`
	Words           int            `json:"words"`
	// WER combines the sessions that have one (total edits over total
	// reference words).
	WER *WERResult `json:"wer,omitempty"`
	// FirstSegment summarizes the sessions' FirstSegmentMs.
	FirstSegment Percentiles `json:"first_segment"`
	// UpdateLatency pools every session's samples.
	UpdateLatency Percentiles `json:"update_latency"`
}

// Report is the outcome of a run.
type Report struct {
	URL        string          `json:"url"`
	Mode       Mode            `json:"mode"`
	SampleRate int             `json:"sample_rate"`
	Codec      string          `json:"codec"`
	Pace       float64         `json:"pace"`
	Loops      int             `json:"loops"`
	AudioS     float64         `json:"audio_s"`
	SpeechAtS  *float64        `json:"speech_at_s"`
	ElapsedS   float64         `json:"elapsed_s"`
	Sessions   []SessionResult `json:"sessions"`
	Aggregate  Aggregate       `json:"aggregate"`
}

// ErrFailed is returned by Run (wrapped) when a session failed.
var ErrFailed = errors.New("session failed")

// Run runs cfg's sessions and reports them. It returns an error wrapping
// ErrFailed when any session failed (the Report is complete all the same),
// or another error for a bad Config. Cancelling ctx interrupts the
// sessions: each closes with 1000 "interrupted" and counts as failed.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Origin, cfg.HasSpeech = SpeechOnset(cfg.Audio, cfg.SampleRate)
	n, stagger := 1, time.Duration(0)
	if cfg.Mode == ModeConcurrent {
		n, stagger = cfg.Sessions, cfg.Stagger
	}
	var emitMu sync.Mutex
	emit := func(e Event) {
		if cfg.OnEvent != nil {
			emitMu.Lock()
			defer emitMu.Unlock()
			cfg.OnEvent(e)
		}
	}
	start := time.Now()
	prog := &progress{}
	stopProgress := make(chan struct{})
	var progDone sync.WaitGroup
	if cfg.OnProgress != nil {
		every := cfg.ProgressEvery
		if every <= 0 {
			every = DefaultProgressEvery
		}
		progDone.Go(func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-stopProgress:
					return
				case <-t.C:
					cfg.OnProgress(Progress{
						Elapsed:    time.Since(start),
						Active:     int(prog.active.Load()),
						AudioSentS: round3(float64(prog.audio.Load()) / 2 / float64(cfg.SampleRate)),
						Words:      int(prog.words.Load()),
					})
				}
			}
		})
	}

	results := make([]SessionResult, n)
	sessions := make([]*session, n)
	var wg sync.WaitGroup
	for i := range n {
		s := &session{cfg: &cfg, idx: i, origin: cfg.Origin, emit: emit, prog: prog}
		sessions[i] = s
		wg.Go(func() { results[i] = s.run(ctx, time.Duration(i)*stagger) })
	}
	wg.Wait()
	close(stopProgress)
	progDone.Wait()

	rep := &Report{
		URL: cfg.URL, Mode: cfg.Mode, SampleRate: cfg.SampleRate, Codec: cfg.Codec,
		Pace: cfg.Pace, Loops: cfg.loops(),
		AudioS:   round3(float64(len(cfg.Audio)) / 2 / float64(cfg.SampleRate)),
		ElapsedS: round3(time.Since(start).Seconds()),
		Sessions: results, Aggregate: aggregate(results, sessions),
	}
	if cfg.HasSpeech {
		v := round3(cfg.Origin)
		rep.SpeechAtS = &v
	}
	if rep.Aggregate.Failed > 0 {
		return rep, fmt.Errorf("%d of %d sessions: %w", rep.Aggregate.Failed, n, ErrFailed)
	}
	return rep, nil
}

func aggregate(rs []SessionResult, ss []*session) Aggregate {
	a := Aggregate{Sessions: len(rs), CloseCodes: map[string]int{}}
	var all, firsts []time.Duration
	var wers []WERResult
	for _, r := range rs {
		if r.Connected {
			a.Connected++
			a.CloseCodes[strconv.Itoa(r.CloseCode)]++
		}
		if r.Failed {
			a.Failed++
		}
		a.HeldS += r.HeldS
		a.AudioSentS += r.AudioSentS
		a.Segments += r.Segments
		a.SegmentsDeleted += r.SegmentsDeleted
		a.Updates += r.Updates
		a.Words += r.Words
		if r.WER != nil {
			wers = append(wers, *r.WER)
		}
		if r.FirstSegmentMs != nil {
			firsts = append(firsts, time.Duration(*r.FirstSegmentMs*float64(time.Millisecond)))
		}
	}
	for _, s := range ss {
		all = append(all, s.latencies...) // the sessions are over
	}
	a.HeldS, a.AudioSentS = round3(a.HeldS), round3(a.AudioSentS)
	if len(wers) > 0 {
		w := Combine(wers...)
		a.WER = &w
	}
	a.FirstSegment = Summarize(firsts)
	a.UpdateLatency = Summarize(all)
	return a
}

// CloseCodeList is the close codes of a map from Aggregate.CloseCodes, sorted
// by code, as "code×count".
func CloseCodeList(m map[string]int) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return out
}
