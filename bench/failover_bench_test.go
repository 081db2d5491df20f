package bench_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"earshot/emulate"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/stages/connector"
	"earshot/stages/deepgram"
	"earshot/stages/retry"
	"earshot/stages/soniox"
)

// Shape of the failover benchmark: a 5-minute conversation (one word a
// second, Alternating's bursts) streamed at 5× real time; the primary
// (Deepgram emulator) dies at minutes 1, 2, 3 and 4 for 20 s of audio
// each; Soniox's emulator is next in the chain.
const (
	foWords      = 300
	foPace       = 20 * time.Millisecond // per 100 ms frame: 5× real time
	foOutageSec  = 20
	foEverySec   = 60 // outages at 60, 120, 180 and 240 s
	foFrameBytes = 3200
)

// switchable serves the current emulator, or 503 while down; kill ends
// the current emulator's streams (close 1001) and puts it down, revive
// brings a new one up.
type switchable struct {
	cur  atomic.Pointer[emulate.Server]
	down atomic.Bool
}

func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	s.cur.Load().Handler().ServeHTTP(w, r)
}

func (s *switchable) revive(b *testing.B) {
	emu, err := emulate.NewServer(emulate.Config{APIKey: testrig.UpstreamKey}, testrig.Quiet())
	if err != nil {
		b.Fatal(err)
	}
	s.cur.Store(emu)
	s.down.Store(false)
}

func (s *switchable) kill() {
	s.down.Store(true)
	_ = s.cur.Load().Close()
}

// foResult is one variant's outcome.
type foResult struct {
	words, lost, duplicated int
	firstAfter              []time.Duration // kill to the next new segment, wall time
	providers               map[string]int
}

// BenchmarkFailoverReplay runs the 5-minute conversation through the
// chain deepgram,soniox with earshot's failover (the replay ring re-sent
// to the next provider) beside the same chain with the replay switched
// off (what a fallback adapter without replay does), in one sitting.
//
//	go test -run '^$' -bench FailoverReplay -benchtime 1x ./bench/
func BenchmarkFailoverReplay(b *testing.B) {
	for range b.N {
		var wg sync.WaitGroup
		results := map[string]foResult{}
		var mu sync.Mutex
		for _, replay := range []bool{true, false} {
			wg.Go(func() {
				r := runFailover(b, replay)
				mu.Lock()
				results[fmt.Sprint(replay)] = r
				mu.Unlock()
			})
		}
		wg.Wait()
		for _, replay := range []bool{true, false} {
			r := results[fmt.Sprint(replay)]
			name := "replay"
			if !replay {
				name = "no replay"
			}
			b.Logf("%-9s words %d/%d, lost %d, duplicated %d, kill→next segment %v, by provider %v",
				name, r.words, foWords, r.lost, r.duplicated, r.firstAfter, r.providers)
			b.ReportMetric(float64(r.lost), strings.ReplaceAll(name, " ", "_")+"_lost_words")
		}
	}
}

func runFailover(b *testing.B, replay bool) foResult {
	sw := &switchable{}
	sw.revive(b)
	dgServer := httptest.NewServer(sw)
	defer dgServer.Close()
	defer sw.kill()
	_, sxURL := testrig.StartSonioxEmulator(b, emulate.Config{})
	dg, err := deepgram.New(deepgram.Config{URL: "ws" + strings.TrimPrefix(dgServer.URL, "http") + "/v1/listen", APIKey: testrig.UpstreamKey})
	if err != nil {
		b.Fatal(err)
	}
	sx, err := soniox.New(soniox.Config{URL: sxURL, APIKey: testrig.UpstreamKey})
	if err != nil {
		b.Fatal(err)
	}
	cc := connector.Config{
		Backoff: retry.BackoffConfig{BaseMs: 100, CapMs: 400}, FailoverAfterMs: 1000, FailbackCheckMs: 1000, MaxFailovers: 20,
	}
	if !replay {
		cc.ReplayMaxMs = -1
	}
	_, url := testrig.StartGatewayProvider(b, dg, pipeline.Config{Connector: cc, Breaker: retry.BreakerConfig{FailureThreshold: 3, OpenMs: 2000}},
		pipeline.Deps{Fallbacks: []connector.Link{{Provider: sx, Languages: soniox.Languages}}})

	pcm, starts := testrig.Alternating(16000, foWords)
	c := testrig.Dial(b, url+"?sample_rate=16000&codec=pcm16")
	c.ReadUntil(b, 10*time.Second, func(c *testrig.Client) bool { return len(c.Statuses) >= 4 })
	var kills []time.Time
	var killsMu sync.Mutex
	go func() {
		for i, off := 0, 0; off < len(pcm); i, off = i+1, off+foFrameBytes {
			sec := i / 10
			switch {
			case i%10 == 0 && sec > 0 && sec%foEverySec == 0 && sec+foEverySec <= foWords:
				sw.kill()
				killsMu.Lock()
				kills = append(kills, time.Now())
				killsMu.Unlock()
			case i%10 == 0 && sec > foEverySec && sec%foEverySec == foOutageSec:
				sw.revive(b)
			}
			if err := c.Conn.Write(context.Background(), websocket.MessageBinary, pcm[off:min(off+foFrameBytes, len(pcm))]); err != nil {
				return
			}
			time.Sleep(foPace)
		}
	}()
	var firstAfter []time.Duration
	seen := 0
	c.ReadUntil(b, 3*time.Minute, func(c *testrig.Client) bool {
		n := len(c.Transcript())
		if n > seen {
			killsMu.Lock()
			for len(firstAfter) < len(kills) {
				firstAfter = append(firstAfter, time.Since(kills[len(firstAfter)]).Round(time.Millisecond))
			}
			killsMu.Unlock()
			seen = n
		}
		// The last word is at 299.5 s: its segment ends the run, or the
		// audio's end plus a settle.
		return n > 0 && c.Transcript()[n-1].Start >= starts[len(starts)-1]-starts[0]-0.05
	})
	_ = c.Drain(2 * time.Second)
	r := foResult{providers: map[string]int{}, firstAfter: firstAfter}
	hit := map[int]int{}
	for _, s := range c.Transcript() {
		r.providers[s.STTProvider]++
		k := int((s.Start + starts[0]) * 10) // tenth of a second
		hit[k]++
	}
	for _, st := range starts {
		k := int(st * 10)
		if n := hit[k]; n == 0 {
			r.lost++
		} else {
			r.words++
			r.duplicated += n - 1
		}
	}
	sort.Slice(r.firstAfter, func(i, j int) bool { return r.firstAfter[i] < r.firstAfter[j] })
	return r
}
