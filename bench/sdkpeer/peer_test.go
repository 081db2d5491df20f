package sdkpeer

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"earshot/emulate"
	"earshot/internal/testrig"
	"earshot/pipeline"
)

var (
	flagPace      = flag.Float64("pace", 10, "audio seconds streamed per wall second")
	flagAudioSec  = flag.Int("audio-sec", 300, "audio length of the drop scenarios, in seconds")
	flagDropAfter = flag.Int("drop-after-sec", 30, "drops happen this many audio seconds (÷ pace in wall time) after a stream opens")
	flagGrace     = flag.Duration("grace", 2*time.Second, "wall time to wait for the last results after the last frame")
	flagOut       = flag.String("out", "", "also write the tables (Markdown) to this file")
	flagOnly      = flag.String("only", "", "run only the scenarios whose name contains this")
	flagDetail    = flag.Bool("detail", false, "also print every stream, missed word and undelivered word")
)

type scenario struct {
	name, what        string
	audioSec          int
	faults            emulate.Faults
	refuseAfterAccept int
	baseline          bool
}

func scenarios(pace float64) []scenario {
	dropMs := int(float64(*flagDropAfter) * 1000 / pace)
	drops := fmt.Sprintf("every stream dropped %d audio-s (%d ms wall) after it opens", *flagDropAfter, dropMs)
	return []scenario{
		{name: "baseline", what: "no fault (control: both must be perfect)", audioSec: 30, baseline: true},
		{name: "drop-1011", what: drops + ", with Metadata then close 1011",
			audioSec: *flagAudioSec, faults: emulate.Faults{DropAfterMs: dropMs}},
		{name: "drop-abrupt", what: drops + ", by closing TCP (no close frame)",
			audioSec: *flagAudioSec, faults: emulate.Faults{DropAfterMs: dropMs, DropAbrupt: true}},
		{name: "refuse-2x503", what: "the first 2 upgrades refused with 503, then served",
			audioSec: 60, faults: emulate.Faults{RefuseFirst: 2, RefuseStatus: 503}},
		{name: "401-always", what: "every upgrade refused with 401 INVALID_AUTH",
			audioSec: 20, faults: emulate.Faults{RefuseFirst: 1 << 30, RefuseStatus: 401}},
		{name: "drop+2x503", what: drops + " (1011), and the 2 upgrades after each accepted one refused with 503 (harness fault in front of the emulator)",
			audioSec: 120, faults: emulate.Faults{DropAfterMs: dropMs}, refuseAfterAccept: 2},
	}
}

// TestPeer runs every fault scenario against Deepgram's Go SDK and against
// earshot, each with its own emulator, both at once, and prints a table per
// scenario. It fails only when the harness cannot account for the run (or
// the no-fault control is not perfect), never because one client did worse.
func TestPeer(t *testing.T) {
	for _, k := range []string{"DEEPGRAM_HOST", "DEEPGRAM_API_VERSION", "DEEPGRAM_API_PATH", "DEEPGRAM_ACCESS_TOKEN",
		"DEEPGRAM_WEBSOCKET_KEEP_ALIVE", "DEEPGRAM_WEBSOCKET_REPLY_AUTO_FLUSH", "DEEPGRAM_WEBSOCKET_REDIRECT", "DEEPGRAM_SELF_HOSTED"} {
		t.Setenv(k, "") // the SDK reads these over its options
	}
	pace := *flagPace
	var out strings.Builder
	fmt.Fprintf(&out, "pace %.0f× real time, drop after %d audio-s, grace %s; wall times are not scaled by the pace\n\n",
		pace, *flagDropAfter, *flagGrace)
	began := time.Now()
	for _, sc := range scenarios(pace) {
		if *flagOnly != "" && !strings.Contains(sc.name, *flagOnly) {
			continue
		}
		t.Run(sc.name, func(t *testing.T) {
			sig := NewSignal(sc.audioSec * 1000)
			cfg := UpstreamConfig{APIKey: testrig.UpstreamKey, Faults: sc.faults, RefuseAfterAccept: sc.refuseAfterAccept}
			upSDK, err := StartUpstream(cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(upSDK.Close)
			upEar, err := StartUpstream(cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(upEar.Close)
			srv, url := testrig.StartGateway(t, upEar.URL, pipeline.Config{})
			var (
				wg       sync.WaitGroup
				sdk, ear Column
				sdkErr   error
				earErr   error
			)
			wg.Add(2)
			go func() { defer wg.Done(); sdk, sdkErr = runSDK(upSDK, cfg.APIKey, sig, pace) }()
			go func() { defer wg.Done(); ear, earErr = runEarshot(upEar, srv, url, sig, pace) }()
			wg.Wait()
			if sdkErr != nil {
				t.Errorf("sdk: %v", sdkErr)
			}
			if earErr != nil {
				t.Errorf("earshot: %v", earErr)
			}
			if sc.baseline {
				for _, c := range []Column{sdk, ear} {
					if c.A.Words.Recall() != 1 || c.A.Audio.LostSec() != 0 || c.A.Words.Dups+c.A.Words.Spurious != 0 {
						t.Errorf("control scenario not clean for %s: the harness cannot be trusted", c.Name)
					}
				}
			}
			table := fmt.Sprintf("### %s: %s (%d s of audio)\n\n%s\n", sc.name, sc.what, sc.audioSec, Table(sdk, ear))
			fmt.Print(table)
			if *flagDetail {
				for _, c := range []Column{sdk, ear} {
					fmt.Printf("%s:\n  %s\n\n", c.Name, strings.Join(c.A.Detail, "\n  "))
				}
			}
			out.WriteString(table)
		})
	}
	if *flagOnly == "" || strings.Contains("abort-during-retry", *flagOnly) {
		t.Run("abort-during-retry", func(t *testing.T) {
			table := abortScenario(t)
			fmt.Print(table)
			out.WriteString(table)
		})
	}
	fmt.Fprintf(&out, "whole run: %.0f s\n", time.Since(began).Seconds())
	if *flagOut != "" {
		if err := os.WriteFile(*flagOut, []byte(out.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
}

func runSDK(up *Upstream, apiKey string, sig Signal, pace float64) (Column, error) {
	col := Column{Name: "deepgram-go-sdk v3.5.0", LostMetric: "n/a", Pace: pace}
	r, err := RunSDK(up.Origin, apiKey, sig, pace, *flagGrace)
	if err != nil {
		return col, err
	}
	up.WaitIdle(5 * time.Second)
	up.Close()
	col.Dials, col.Connect, col.Writes = up.Dials(), r.Connect, r.Writes
	col.Outcome = fmt.Sprintf("Stop() took %s; %d Open / %d Close / %d Error callbacks", ms(r.Stop), r.Opens, r.Closes, len(r.Errors))
	if r.WhyGaveUp != "" {
		col.Outcome = fmt.Sprintf("%s after %s; ", r.WhyGaveUp, ms(r.GaveUpAt)) + col.Outcome
	}
	if r.Writes.FirstErr != nil {
		col.Outcome += fmt.Sprintf("; first write error: %v", r.Writes.FirstErr)
	}
	streams, err := up.Streams()
	if err != nil {
		return col, err
	}
	col.A, err = Analyze(sig, streams, r.Words, r.Start, false)
	return col, err
}

func runEarshot(up *Upstream, srv *pipeline.Server, url string, sig Signal, pace float64) (Column, error) {
	col := Column{Name: "earshot", LostMetric: "unreadable", Pace: pace}
	r, err := RunGateway(url, testrig.ClientKey, sig, pace, *flagGrace)
	if err != nil {
		return col, err
	}
	for deadline := time.Now().Add(5 * time.Second); srv.Sessions() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	metricsURL := "http" + strings.TrimSuffix(strings.TrimPrefix(url, "ws"), "/v4/listen") + "/metrics"
	if v, ok := ScrapeMetric(metricsURL, "earshot_audio_lost_seconds_total"); ok {
		col.LostMetric = fmt.Sprintf("%.2f s", v)
	}
	up.WaitIdle(5 * time.Second)
	up.Close()
	col.Dials, col.Connect, col.Writes = up.Dials(), r.Connect, r.Writes
	col.Outcome = "statuses " + countRuns(r.Statuses)
	if r.WhyGaveUp != "" {
		col.Outcome = fmt.Sprintf("closed %d after %s; ", r.CloseCode, ms(r.GaveUpAt)) + col.Outcome
	}
	streams, err := up.Streams()
	if err != nil {
		return col, err
	}
	col.A, err = Analyze(sig, streams, r.Words, r.Start, true)
	return col, err
}

// abortScenario: every upgrade is refused with 503 (transient, so both
// clients retry) and the application gives up 500 ms in. How long does the
// client keep going?
func abortScenario(t *testing.T) string {
	const abortAfter = 500 * time.Millisecond
	cfg := UpstreamConfig{APIKey: testrig.UpstreamKey, Faults: emulate.Faults{RefuseFirst: 1 << 30, RefuseStatus: 503}}
	upSDK, err := StartUpstream(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(upSDK.Close)
	upEar, err := StartUpstream(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(upEar.Close)
	srv, url := testrig.StartGateway(t, upEar.URL, pipeline.Config{})

	var (
		wg                 sync.WaitGroup
		sdkReturn          time.Duration
		sdkCancel, earLeft time.Time
		earEnded           time.Duration
		sdkErr, earErr     error
		earEarly           string
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		sdkReturn, sdkCancel, sdkErr = SDKAbort(upSDK.Origin, cfg.APIKey, abortAfter)
	}()
	go func() {
		defer wg.Done()
		earLeft, earEarly, earErr = GatewayAbort(url, testrig.ClientKey, abortAfter)
		if earErr == nil {
			for srv.Sessions() > 0 && time.Since(earLeft) < 10*time.Second {
				time.Sleep(time.Millisecond)
			}
			earEnded = time.Since(earLeft)
		}
	}()
	wg.Wait()
	if sdkErr != nil || earErr != nil {
		t.Fatalf("abort scenario: sdk %v, earshot %v", sdkErr, earErr)
	}
	time.Sleep(2 * time.Second) // let any late dial show
	sdkAfter, _ := upSDK.DialsAfter(sdkCancel)
	earAfter, earLast := upEar.DialsAfter(earLeft)
	earEnd := "session gone after " + ms(earEnded)
	if earEarly != "" {
		earEnd = earEarly + ", before the abort"
	}
	last := "none"
	if earAfter > 0 {
		last = "last +" + ms(earLast.Sub(earLeft))
	}
	return fmt.Sprintf("### abort-during-retry: every upgrade refused with 503; the application gives up %s in\n\n"+
		"| | deepgram-go-sdk v3.5.0 | earshot |\n|---|---|---|\n"+
		"| how the app gives up | cancels the context given to the client | leaves (TCP close, no handshake) |\n"+
		"| abort → client call returned / session ended | Connect() returned after %s | %s |\n"+
		"| upstream dials before / after the abort | %d / %d | %d / %d (%s) |\n\n",
		ms(abortAfter), ms(sdkReturn), earEnd,
		upSDK.Dials()-int64(sdkAfter), sdkAfter, upEar.Dials()-int64(earAfter), earAfter, last)
}

// countRuns lists values in order of first appearance, with their counts.
func countRuns(vals []string) string {
	var order []string
	n := map[string]int{}
	for _, v := range vals {
		if n[v] == 0 {
			order = append(order, v)
		}
		n[v]++
	}
	for i, v := range order {
		if n[v] > 1 {
			order[i] = fmt.Sprintf("%s ×%d", v, n[v])
		}
	}
	return strings.Join(order, ", ")
}
