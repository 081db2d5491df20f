package sdkpeer

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"earshot/emulate"
	"earshot/stages"
)

// Upstream is an in-process Deepgram emulator on a loopback port whose
// streams are recorded by taps. Each client under test gets its own.
type Upstream struct {
	Emu *emulate.Server
	// URL is ws://127.0.0.1:<port>/v1/listen.
	URL string
	// Origin is ws://127.0.0.1:<port>.
	Origin string

	hs     *httptest.Server
	closed sync.Once
	dials  atomic.Int64 // every GET /v1/listen, also those RefuseAfterAccept refused

	dialMu    sync.Mutex
	dialTimes []time.Time

	mu   sync.Mutex
	taps []*Tap
	ends []emulate.StreamSummary
}

// UpstreamConfig configures StartUpstream.
type UpstreamConfig struct {
	// APIKey is required from clients.
	APIKey string
	// Faults are the emulator's own faults.
	Faults emulate.Faults
	// RefuseAfterAccept, if > 0, refuses (503, in front of the emulator)
	// the RefuseAfterAccept upgrade attempts that follow every accepted
	// one: combined with Faults.DropAfterMs, every reconnect after a drop
	// needs RefuseAfterAccept+1 dials. emulate.Faults.RefuseFirst only
	// counts from the server's start, so this lives in the harness.
	RefuseAfterAccept int
}

// StartUpstream serves an emulator on 127.0.0.1 with cfg's faults and the
// energy-test recognizer behind a tap. Close it with Close.
func StartUpstream(cfg UpstreamConfig) (*Upstream, error) {
	u := &Upstream{}
	emu, err := emulate.NewServer(emulate.Config{
		APIKey: cfg.APIKey,
		Faults: cfg.Faults,
		Recognizer: func(rate int) (emulate.Recognizer, error) {
			inner, err := emulate.EnergyTest(rate)
			if err != nil {
				return nil, err
			}
			t := &Tap{inner: inner}
			u.mu.Lock()
			u.taps = append(u.taps, t)
			u.mu.Unlock()
			return t, nil
		},
		OnStreamEnd: func(s emulate.StreamSummary) {
			u.mu.Lock()
			u.ends = append(u.ends, s)
			u.mu.Unlock()
		},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	u.Emu = emu
	var h http.Handler = emu.Handler()
	if cfg.RefuseAfterAccept > 0 {
		h = refuseAfterAccept(h, cfg.RefuseAfterAccept)
	}
	u.hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/listen" {
			u.dials.Add(1)
			u.dialMu.Lock()
			u.dialTimes = append(u.dialTimes, time.Now())
			u.dialMu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	u.Origin = "ws" + strings.TrimPrefix(u.hs.URL, "http")
	u.URL = u.Origin + "/v1/listen"
	return u, nil
}

// refuseAfterAccept lets upgrade attempt n (from 1) through to the
// emulator when (n-1) is a multiple of k+1 and refuses the others with 503
// in Deepgram's form (dg-error header, JSON body).
func refuseAfterAccept(next http.Handler, k int) http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/listen" || (n.Add(1)-1)%int64(k+1) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		id := fmt.Sprintf("harness-%d", n.Load())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("dg-request-id", id)
		w.Header().Set("dg-error", "Service unavailable (harness fault)")
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"err_code": "SERVICE_UNAVAILABLE", "err_msg": "Service unavailable (harness fault)", "request_id": id,
		})
	})
}

// Dials counts every upgrade attempt, including those refused in front of
// the emulator.
func (u *Upstream) Dials() int64 { return u.dials.Load() }

// DialsAfter counts upgrade attempts made after t, and returns the last
// one's time.
func (u *Upstream) DialsAfter(t time.Time) (n int, last time.Time) {
	u.dialMu.Lock()
	defer u.dialMu.Unlock()
	for _, d := range u.dialTimes {
		if d.After(t) {
			n, last = n+1, d
		}
	}
	return n, last
}

// WaitIdle waits until no stream is open, or d passes.
func (u *Upstream) WaitIdle(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for u.Emu.Stats().Active > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// Close ends every stream, waits for them and stops serving. It may be
// called more than once.
func (u *Upstream) Close() {
	u.closed.Do(func() {
		_ = u.Emu.Close()
		u.hs.Close()
	})
}

// Streams pairs each recorded stream's summary with its tap, in the order
// the streams opened. Call it after Close. Taps are created in the same
// handler goroutine as the stream, just before its Opened time, so the
// n-th tap belongs to the n-th stream by Opened.
func (u *Upstream) Streams() ([]RecordedStream, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.taps) != len(u.ends) {
		return nil, fmt.Errorf("%d recognizers but %d stream summaries", len(u.taps), len(u.ends))
	}
	ends := append([]emulate.StreamSummary(nil), u.ends...)
	sort.SliceStable(ends, func(i, j int) bool { return ends[i].Opened.Before(ends[j].Opened) })
	out := make([]RecordedStream, len(ends))
	for i, s := range ends {
		t := u.taps[i]
		t.mu.Lock()
		out[i] = RecordedStream{Sum: s, Audio: t.audio, FirstAudio: t.firstAudio, Words: t.words}
		t.mu.Unlock()
		if got := int64(len(out[i].Audio)); got != s.AudioBytes && got+1 != s.AudioBytes {
			return nil, fmt.Errorf("stream %d: tap saw %d bytes, summary says %d (pairing is wrong)", i, got, s.AudioBytes)
		}
	}
	return out, nil
}

// RecordedStream is one accepted stream as the emulator saw it.
type RecordedStream struct {
	Sum        emulate.StreamSummary
	Audio      []byte
	FirstAudio time.Time // zero if it got no audio
	Words      []stages.Word
}

// Tap wraps a Recognizer and records the audio it is fed and the words it
// returns.
type Tap struct {
	inner      emulate.Recognizer
	mu         sync.Mutex
	audio      []byte
	firstAudio time.Time
	words      []stages.Word
}

// Accept implements emulate.Recognizer.
func (t *Tap) Accept(pcm []byte) []stages.Word {
	w := t.inner.Accept(pcm)
	t.mu.Lock()
	if len(pcm) > 0 && t.firstAudio.IsZero() {
		t.firstAudio = time.Now()
	}
	t.audio = append(t.audio, pcm...)
	t.words = append(t.words, w...)
	t.mu.Unlock()
	return w
}

// Flush implements emulate.Recognizer.
func (t *Tap) Flush() []stages.Word {
	w := t.inner.Flush()
	t.mu.Lock()
	t.words = append(t.words, w...)
	t.mu.Unlock()
	return w
}
