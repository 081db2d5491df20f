package pipeline_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/pipeline"
	"earshot/stages"
	"earshot/stages/stagestest"
)

// channelFrame is a multi-channel frame: the channel id, then PCM.
func channelFrame(id byte, samples int) []byte {
	b := make([]byte, 1+2*samples)
	b[0] = id
	for i := 1; i < len(b); i++ {
		b[i] = id
	}
	return b
}

// twoChannels dials a two-channel session and answers its two dials; it
// returns the client and the upstream of each channel (told apart by the
// audio each receives).
func twoChannels(t *testing.T, g *gateway) (*websocket.Conn, [2]*stagestest.Stream) {
	t.Helper()
	c := g.dial(t, "sample_rate=16000&codec=pcm16&channels=2", testKey)
	statuses(t, c)
	var got [2]*stagestest.Stream
	ups := [2]*stagestest.Stream{stagestest.NewStream(64), stagestest.NewStream(64)}
	for _, up := range ups {
		d := <-g.p.Dials
		td.Cmp(t, d.Config, stages.StreamConfig{SampleRateHz: 16000, Channels: 1, Language: "en"}, "one mono upstream per channel")
		d.Accept(up)
	}
	td.Cmp(t, next(t, c).Raw, td.JSON(`{"type":"service_status","status":"ready","provider":"fake"}`), "one ready")
	td.CmpNoError(t, c.Write(context.Background(), websocket.MessageBinary, channelFrame(1, 160)))
	synctest.Wait()
	for i, up := range ups {
		select {
		case a := <-up.Audio:
			td.Cmp(t, a, channelFrame(1, 160)[1:], "channel 1's audio without its id")
			got[0], got[1] = ups[i], ups[1-i]
		default:
		}
	}
	td.Require(t).NotNil(got[0], "one upstream got channel 1's frame")
	td.CmpNoError(t, c.Write(context.Background(), websocket.MessageBinary, channelFrame(2, 160)))
	td.Cmp(t, <-got[1].Audio, channelFrame(2, 160)[1:], "channel 2's audio reaches the other upstream")
	return c, got
}

// TestListenTwoChannels: each channel has its own upstream; channel 1's
// words are the user's (SPEAKER_00), channel 2's SPEAKER_01; an unknown
// channel id is skipped; channel 2's upstream dropping degrades only
// channel 2 (named) while channel 1 keeps producing segments.
func TestListenTwoChannels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateway(t, pipeline.Config{}, true)
		c, up := twoChannels(t, g)
		ctx := context.Background()
		td.CmpNoError(t, c.Write(ctx, websocket.MessageBinary, channelFrame(7, 160)))
		up[0].Push(stages.Result{IsFinal: true, Words: []stages.Word{
			{Word: "hello", Punctuated: "Hello.", StartSec: 0.1, EndSec: 0.5, Speaker: 4}}})
		up[1].Push(stages.Result{IsFinal: true, Words: []stages.Word{
			{Word: "hi", Punctuated: "Hi.", StartSec: 1, EndSec: 1.4, Speaker: 0}}})
		e := next(t, c)
		td.Cmp(t, e.Raw, td.JSON(`[
			{"id": $1, "text": "Hello.", "speaker": "SPEAKER_00", "speaker_id": 0, "is_user": true, "person_id": null,
			 "start": 0, "end": 0.4, "translations": [], "speech_profile_processed": false, "stt_provider": "fake"},
			{"id": $2, "text": "Hi.", "speaker": "SPEAKER_01", "speaker_id": 1, "is_user": false, "person_id": null,
			 "start": 0.9, "end": 1.3, "translations": [], "speech_profile_processed": false, "stt_provider": "fake"}
		]`, td.NotEmpty(), td.NotEmpty()))
		td.Cmp(t, stagestest.MetricValue(t, g.set, `earshot_demux_skipped_frames_total`), 1.0)

		up[1].End(&stages.UpstreamError{CloseCode: 1011, Code: "NET-0001"})
		td.Cmp(t, next(t, c).Raw, td.JSON(`{"type":"service_status","status":"stt_degraded",
			"status_text":"channel 2: NET-0001","provider":"fake","channel":2}`))
		up[0].Push(stages.Result{IsFinal: true, Words: []stages.Word{
			{Word: "still", Punctuated: "Still.", StartSec: 5, EndSec: 5.5, Speaker: 0}}})
		e = next(t, c)
		td.Cmp(t, e.Segments, td.Len(1))
		td.Cmp(t, e.Segments[0].Speaker, "SPEAKER_00", "channel 1 goes on")

		d := <-g.p.Dials // channel 2 reconnects
		up2 := stagestest.NewStream(64)
		d.Accept(up2)
		td.Cmp(t, next(t, c).Raw, td.JSON(`{"type":"service_status","status":"stt_recovered",
			"status_text":"channel 2","provider":"fake","channel":2}`))

		// Leaving ends both upstream streams properly.
		td.CmpNoError(t, c.Close(websocket.StatusNormalClosure, ""))
		go endOnCloseStream(up[0])
		endOnCloseStream(up2)
		synctest.Wait()
		td.Cmp(t, g.srv.Sessions(), 0)
	})
}

// TestListenTwoChannelsClientLeavingMidDialAbortsBoth: a client that
// leaves while both channels are dialing aborts both dials at once.
func TestListenTwoChannelsClientLeavingMidDialAbortsBoth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateway(t, pipeline.Config{}, true)
		c := g.dial(t, "sample_rate=16000&codec=pcm16&channels=2", testKey)
		statuses(t, c)
		d1, d2 := <-g.p.Dials, <-g.p.Dials
		left := time.Now()
		td.CmpNoError(t, c.Close(websocket.StatusNormalClosure, ""))
		<-d1.Ctx.Done()
		<-d2.Ctx.Done()
		td.Cmp(t, time.Since(left), td.Lt(100*time.Millisecond), "both dials aborted at once")
		synctest.Wait()
		td.Cmp(t, g.srv.Sessions(), 0)
		td.Cmp(t, g.p.Count.Load(), int64(2))
	})
}
