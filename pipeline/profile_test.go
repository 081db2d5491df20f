package pipeline_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/stages"
	"earshot/stages/profile"
	"earshot/stages/stagestest"
)

// writeWAV writes pcm (mono 16-bit at rateHz) as a WAV file.
func writeWAV(t *testing.T, path string, rateHz int, pcm []byte) {
	t.Helper()
	td.Require(t).CmpNoError(os.WriteFile(path, testrig.WAV(rateHz, pcm), 0o600))
}

// TestListenSpeechProfileSession: a user with a profile gets a main
// socket that hears the profile (padded to the prefix) first, while live
// audio goes to a temporary socket; once the main socket is through the
// prefix the live audio switches to it and the temporary socket is ended
// properly; the main socket's speaker 0 is the user, with
// speech_profile_processed; the temporary socket's words are nobody's;
// every time is on the capture clock.
func TestListenSpeechProfileSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		writeWAV(t, filepath.Join(dir, "u-1.wav"), 16000, stagestest.PCM(1000, 16000)) // 1 s
		g := newGateway(t, pipeline.Config{
			ProfilesDir: dir, ProfilePrefixMs: 2000,
			ProfileSwitch: profile.Config{SettleMs: 100, BoundaryWaitMs: 200},
		}, true)
		c := g.dial(t, "sample_rate=16000&codec=pcm16&uid=u-1", testKey)
		ctx := context.Background()
		statuses(t, c)
		streams := map[*stagestest.Stream]bool{}
		for range 2 {
			up := stagestest.NewStream(256)
			(<-g.p.Dials).Accept(up)
			streams[up] = true
		}
		td.Cmp(t, next(t, c).Status, "ready", "one ready")
		synctest.Wait()
		var main, temp *stagestest.Stream
		for up := range streams {
			if len(up.Audio) > 0 {
				main = up
			} else {
				temp = up
			}
		}
		td.Require(t).NotNil(main, "one socket got the prefix at once")
		td.Require(t).NotNil(temp)
		var prefix []byte
		for len(prefix) < 64000 {
			prefix = append(prefix, <-main.Audio...)
		}
		td.Cmp(t, prefix, append(stagestest.PCM(1000, 16000), make([]byte, 32000)...), "the profile, padded to 2 s")
		td.Cmp(t, <-main.Controls, stages.ControlFinalize)

		// Live audio goes to the temporary socket meanwhile.
		td.CmpNoError(t, c.Write(ctx, websocket.MessageBinary, stagestest.PCM(0, 1600)))
		td.Cmp(t, <-temp.Audio, stagestest.PCM(0, 1600))
		temp.Push(stages.Result{IsFinal: true, StartSec: 0, DurationSec: 0.1, Words: []stages.Word{
			{Word: "early", Punctuated: "Early.", StartSec: 0.0, EndSec: 0.1, Speaker: 0}}})

		// The main socket is through the prefix: after the settle delay
		// and the boundary wait, live audio switches to it.
		main.Push(stages.Result{IsFinal: true, FromFinalize: true, StartSec: 0, DurationSec: 2, Words: []stages.Word{
			{Word: "profile", StartSec: 0.2, EndSec: 0.6, Speaker: 0}}})
		e := next(t, c)
		td.Cmp(t, e.Raw, td.JSON(`[{"id": $1, "text": "Early.", "speaker": "SPEAKER_1", "speaker_id": 1, "is_user": false,
			"person_id": null, "start": 0, "end": 0.1, "translations": [], "speech_profile_processed": false,
			"stt_provider": "fake"}]`, td.NotEmpty()), "the temporary socket's speaker 0 is not the user")
		synctest.Wait()
		td.Cmp(t, <-temp.Controls, stages.ControlCloseStream, "the temporary socket is ended after the switch")
		temp.EndNormally()
		td.CmpNoError(t, c.Write(ctx, websocket.MessageBinary, stagestest.PCM(1600, 1600)))
		td.Cmp(t, <-main.Audio, stagestest.PCM(1600, 1600), "then live audio goes to the main socket")
		main.Push(stages.Result{IsFinal: true, StartSec: 2, DurationSec: 0.1, Words: []stages.Word{
			{Word: "mine", Punctuated: "Mine.", StartSec: 2.0, EndSec: 2.05, Speaker: 0}}})
		e = next(t, c)
		td.Cmp(t, e.Raw, td.JSON(`[{"id": $1, "text": "Mine.", "speaker": "SPEAKER_0", "speaker_id": 0, "is_user": true,
			"person_id": null, "start": 0.1, "end": 0.15, "translations": [], "speech_profile_processed": true,
			"stt_provider": "fake"}]`, td.NotEmpty()), "the main socket's speaker 0 is the user, at capture time")
		td.Cmp(t, stagestest.MetricValue(t, g.set, `earshot_upstream_prefix_words_total`), 1.0, "the profile's word dropped")

		td.CmpNoError(t, c.Close(websocket.StatusNormalClosure, ""))
		endOnCloseStream(main)
		synctest.Wait()
		td.Cmp(t, g.srv.Sessions(), 0)
	})
}

// TestListenWithoutAProfileIsAnOrdinarySession: no profile file, a
// profile asked not to be used, or a user id that is no file name: one
// upstream socket, no prefix.
func TestListenWithoutAProfileIsAnOrdinarySession(t *testing.T) {
	dir := t.TempDir()
	writeWAV(t, filepath.Join(dir, "u-1.wav"), 16000, stagestest.PCM(0, 1600))
	for _, q := range []string{"uid=nobody", "uid=u-1&include_speech_profile=false", "uid=../u-1", "uid=u-1&channels=2"} {
		t.Run(q, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := newGateway(t, pipeline.Config{ProfilesDir: dir}, true)
				c := g.dial(t, "sample_rate=16000&codec=pcm16&"+q, testKey)
				statuses(t, c)
				ups := 1
				if q == "uid=u-1&channels=2" {
					ups = 2
				}
				for range ups {
					up := stagestest.NewStream(8)
					(<-g.p.Dials).Accept(up)
					synctest.Wait()
					td.Cmp(t, len(up.Audio), 0, "no prefix")
				}
				td.Cmp(t, next(t, c).Status, "ready")
				synctest.Wait()
				td.Cmp(t, g.p.Count.Load(), int64(ups))
			})
		})
	}
}
