package sdkpeer

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"earshot/protocol"
)

// GatewayRun is what the application saw of one run through earshot.
type GatewayRun struct {
	Start     time.Time
	Connect   time.Duration // websocket.Dial to the gateway
	Writes    Writes
	Words     []ReceivedWord
	Statuses  []string
	CloseCode websocket.StatusCode // the gateway's close code, if it closed first (-1 otherwise)
	GaveUpAt  time.Duration
	WhyGaveUp string
}

// RunGateway streams sig into earshot's /v4/listen at url (ws://…) with
// clientKey, the way the Omi app does (binary PCM frames, segments back as
// JSON arrays upserted by id), then closes normally after grace.
func RunGateway(url, clientKey string, sig Signal, pace float64, grace time.Duration) (GatewayRun, error) {
	r := GatewayRun{Start: time.Now(), CloseCode: -1}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, _, err := websocket.Dial(ctx, url+"?language=en&sample_rate=16000&codec=pcm16", &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + clientKey}},
	})
	if err != nil {
		return r, err
	}
	defer c.CloseNow()
	r.Connect = time.Since(r.Start)

	var (
		dead     atomic.Bool
		mu       sync.Mutex
		order    []string
		segments = map[string]protocol.Segment{}
		deleted  = map[string]bool{}
		readDone = make(chan struct{})
		closing  atomic.Bool
	)
	go func() {
		defer close(readDone)
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				if !closing.Load() {
					mu.Lock()
					r.CloseCode = websocket.CloseStatus(err)
					r.GaveUpAt, r.WhyGaveUp = time.Since(r.Start), "gateway closed: "+err.Error()
					mu.Unlock()
				}
				dead.Store(true)
				return
			}
			mu.Lock()
			segs, e, err := protocol.Decode(b) // the ping and non-protocol frames: ignored
			if err == nil {
				for _, s := range segs {
					if _, ok := segments[s.ID]; !ok {
						order = append(order, s.ID)
					}
					segments[s.ID] = s
				}
				switch e.Type {
				case protocol.TypeServiceStatus:
					r.Statuses = append(r.Statuses, e.Status)
				case protocol.TypeSegmentsDeleted:
					for _, id := range e.SegmentIDs {
						deleted[id] = true
					}
				}
			}
			mu.Unlock()
		}
	}()

	r.Writes = pump(sig, pace, r.Start, func(p []byte) error {
		return c.Write(ctx, websocket.MessageBinary, p)
	}, &dead)
	if !dead.Load() {
		time.Sleep(grace)
		closing.Store(true)
		_ = c.Close(websocket.StatusNormalClosure, "done")
	}
	cancel()
	<-readDone

	mu.Lock()
	defer mu.Unlock()
	for _, id := range order {
		if deleted[id] {
			continue
		}
		s := segments[id]
		for i, w := range strings.Fields(s.Text) {
			rep := math.NaN()
			if i == 0 {
				rep = s.Start * 1000
			}
			r.Words = append(r.Words, ReceivedWord{Name: strings.TrimRight(w, ".,?!"), ReportedMs: rep})
		}
	}
	return r, nil
}

// ScrapeMetric reads one unlabelled sample from a Prometheus text
// endpoint; ok is false if it is not there.
func ScrapeMetric(url, name string) (v float64, ok bool) {
	resp, err := http.Get(url) //nolint:noctx // loopback, bounded by the test timeout
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if rest, found := strings.CutPrefix(sc.Text(), name+" "); found {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// GatewayAbort opens a session, leaves abortAfter later without a closing
// handshake (the app was killed), and returns when it left. If the gateway
// closed the session first, early says how and when.
func GatewayAbort(url, clientKey string, abortAfter time.Duration) (left time.Time, early string, err error) {
	start := time.Now()
	c, _, err := websocket.Dial(context.Background(), url+"?language=en&sample_rate=16000&codec=pcm16", &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + clientKey}},
	})
	if err != nil {
		return time.Time{}, "", err
	}
	closed := make(chan string, 1)
	go func() {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				closed <- fmt.Sprintf("gateway closed %d after %s", websocket.CloseStatus(err), time.Since(start).Round(time.Millisecond))
				return
			}
		}
	}()
	select {
	case early = <-closed:
	case <-time.After(abortAfter):
	}
	_ = c.CloseNow()
	return time.Now(), early, nil
}
