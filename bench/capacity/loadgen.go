package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// loadSpec is one load: Sessions clients of a /v4/listen endpoint (the
// gateway, or the relay), each streaming the conversation at real time.
type loadSpec struct {
	URL string
	Key string // sent as "Authorization: Bearer <Key>"
	// Sessions, the i-th dialing at Start + i·Ramp/Sessions.
	Sessions int
	Start    time.Time
	Ramp     time.Duration
	// Frames is the conversation, one binary message a frame, looped and
	// sent one every FrameDur; session i starts at frame
	// sessionOffset(i, len(Frames), FrameDur) so that sessions do not speak
	// in step. With Stamp, each frame (raw PCM of at least 2·stampBytes
	// bytes) carries a stamp (see putStamp) in the copy sent.
	Frames   [][]byte
	FrameDur time.Duration
	Stamp    bool
	// Channels per session (0 or 1: one, frames as they are). With more,
	// each frame time sends one message per channel, [id][payload] with
	// ids 1..Channels (see channelFrame), channel c's payload the frame
	// channelShift(c, ...) further on in the loop; each message is
	// stamped (in its payload) and counted as a frame.
	Channels int
	// Stop: no frame is scheduled at or after it; then each session closes
	// with 1000.
	Stop time.Time
	// [From, To) is the measurement window (Unix ns): frames and result
	// stamps sent in it are counted; earlier ones are warm-up.
	From, To int64
	// Origin says where the target's segment times count from, for the
	// frame latency from arrival words (see arrival.go): originCapture
	// (the relay), originStreamStart (the gateway, gate off),
	// originCalibrated (gate on); "" measures none.
	Origin string
	// Idle sessions connect and send nothing until Stop or Done.
	Idle bool
	Done <-chan struct{}
	// Ready, if set, is incremented when a session sees the gateway's
	// "ready" status.
	Ready *atomic.Int64
}

// offsetStride is the offset between sessions in 100 ms frames; prime,
// so that offsets spread over the loop.
const offsetStride = 37

// loadResult aggregates the sessions of a load.
type loadResult struct {
	Dialed, Failed int
	Failures       []string // the first few
	// Sent counts frames sent in the window, SentAll every frame sent
	// (channel frames: Channels a frame time);
	// MaxLateMs is how far behind
	// its schedule the latest of them was sent (the window only; WarmLateMs
	// for the frames before it).
	Sent       int
	SentAll    int
	MaxLateMs  float64
	WarmLateMs float64
	// ResultNs: for each text frame carrying new stamp words from the
	// window, client arrival minus the oldest new one's upstream send
	// time (nanoseconds). Batched counts the newer stamp words of the same
	// frames, which waited less and are not sampled.
	ResultNs []int64
	Batched  int
	Ready    int
	// The frame latency from the Results' arrival words (see arrival.go),
	// of frames sent in the window: live frames and the gate's pre-roll
	// (ns); samples not mapped to a frame; conversations calibrated, and
	// those whose known origin the calibration contradicted.
	ArrivalNs         []int64
	ArrivalPrerollNs  []int64
	ArrivalUnresolved int
	OriginGroups      int
	OriginMismatches  int
}

// runLoad runs spec and returns when every session has ended.
func runLoad(spec loadSpec) loadResult {
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		agg loadResult
	)
	for i := range spec.Sessions {
		at := spec.Start.Add(time.Duration(i) * spec.Ramp / time.Duration(spec.Sessions))
		wg.Go(func() {
			s := &loadSession{spec: &spec, id: uint32(i), frame0: sessionOffset(i, len(spec.Frames), spec.FrameDur), conv: -1}
			time.Sleep(time.Until(at))
			s.run()
			mu.Lock()
			defer mu.Unlock()
			agg.Dialed++
			if s.err != nil {
				agg.Failed++
				if len(agg.Failures) < 5 {
					agg.Failures = append(agg.Failures, fmt.Sprintf("session %d: %v", i, s.err))
				}
			}
			agg.Sent += s.sent
			agg.SentAll += s.sentAll
			agg.MaxLateMs = max(agg.MaxLateMs, float64(s.maxLate)/1e6)
			agg.WarmLateMs = max(agg.WarmLateMs, float64(s.warmLate)/1e6)
			agg.ResultNs = append(agg.ResultNs, s.resultNs...)
			agg.Batched += s.batched
			agg.ArrivalNs = append(agg.ArrivalNs, s.arr.Live...)
			agg.ArrivalPrerollNs = append(agg.ArrivalPrerollNs, s.arr.Preroll...)
			agg.ArrivalUnresolved += s.arr.Unresolved
			agg.OriginGroups += s.arr.Groups
			agg.OriginMismatches += s.arr.Mismatches
			if s.ready {
				agg.Ready++
			}
		})
	}
	wg.Wait()
	return agg
}

// loadSession is one client: a writer (run) and a reader goroutine.
type loadSession struct {
	spec   *loadSpec
	id     uint32
	frame0 int

	conn    *websocket.Conn
	closing atomic.Bool // we started the close: a read error is ours

	// Writer's.
	sent     int
	sentAll  int
	maxLate  int64
	warmLate int64
	err      error
	ring     *sendRing // each frame time's send time

	// Reader's, read by run after the reader ended.
	readErr  error
	seen     seenWords
	fresh    []int64 // the current text frame's new stamp words (reused)
	resultNs []int64
	batched  int
	ready    bool
	conv     int             // the gateway's conversation (-1 before the first)
	samples  []arrivalSample // arrival words brought back

	arr arrivals // the samples resolved, once both goroutines ended
}

var errServerClosed = errors.New("closed by the server")

func (s *loadSession) run() {
	spec := s.spec
	dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer "+spec.Key)
	c, _, err := websocket.Dial(dctx, spec.URL, &websocket.DialOptions{
		HTTPHeader: hdr, CompressionMode: websocket.CompressionDisabled,
	})
	cancel()
	if err != nil {
		s.err = fmt.Errorf("dial: %w", err)
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	s.conn = c
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		s.read()
	}()
	if spec.Idle {
		select {
		case <-time.After(time.Until(spec.Stop)):
		case <-spec.Done:
		case <-readDone:
		}
	} else {
		s.stream(readDone)
	}
	s.closing.Store(true)
	_ = c.Close(websocket.StatusNormalClosure, "")
	<-readDone
	if s.err == nil && s.readErr != nil {
		s.err = s.readErr
	}
	if s.ring != nil && spec.Origin != "" {
		resolveArrivals(s.samples, s.ring, spec.FrameDur, spec.Origin, spec.From, spec.To, &s.arr)
	}
}

// stream sends a frame every FrameDur from now until Stop, or until the
// connection fails.
func (s *loadSession) stream(readDone <-chan struct{}) {
	spec := s.spec
	ctx := context.Background() // no Done channel: nothing registered per write
	maxBytes := 0
	for _, f := range spec.Frames {
		maxBytes = max(maxBytes, len(f))
	}
	channels := max(spec.Channels, 1)
	buf := make([]byte, maxBytes+1) // room for a channel id
	starts := make([]int, channels) // each channel's place in the loop
	for c := range starts {
		starts[c] = s.frame0 + channelShift(c, channels, len(spec.Frames))
	}
	t0 := time.Now()
	s.ring = newSendRing(int(spec.Stop.Sub(t0)/spec.FrameDur) + 1)
	for k := 0; ; k++ {
		due := t0.Add(time.Duration(k) * spec.FrameDur)
		if !due.Before(spec.Stop) {
			return
		}
		if d := time.Until(due); d > 0 {
			select {
			case <-readDone: // the server closed the session
				return
			default:
			}
			time.Sleep(d)
		}
		for c, start := range starts {
			// A copy: the frames are every session's, and a stamp is this one's.
			msg, pcm := channelFrame(buf, channels, c, spec.Frames[(start+k)%len(spec.Frames)])
			now := time.Now()
			ns := now.UnixNano()
			if c == 0 {
				s.ring.put(int64(k), ns)
			}
			if spec.Stamp {
				putStamp(pcm, stamp{Session: s.id, Seq: uint32(k), SentNs: ns})
			}
			late := int64(now.Sub(due))
			if d := due.UnixNano(); d >= spec.From && d < spec.To {
				s.maxLate = max(s.maxLate, late)
			} else if d < spec.From {
				s.warmLate = max(s.warmLate, late)
			}
			if err := s.conn.Write(ctx, websocket.MessageBinary, msg); err != nil {
				s.err = fmt.Errorf("write: %w", err)
				return
			}
			s.sentAll++
			if ns >= spec.From && ns < spec.To {
				s.sent++
			}
		}
	}
}
