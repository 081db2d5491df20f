package e2e_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/stages/profile"
)

// writeProfile writes a speech profile: a WAV of pcm (mono, 16 kHz).
func writeProfile(t *testing.T, dir, user string, pcm []byte) {
	t.Helper()
	td.Require(t).CmpNoError(os.WriteFile(filepath.Join(dir, user+".wav"), testrig.WAV(16000, pcm), 0o600))
}

// TestSpeechProfileSession streams alternating quiet and loud bursts
// through a speech-profile session to the emulator (its energy-test
// recognizer labels quiet bursts speaker 0, loud ones speaker 1), with a
// profile of one quiet burst: the profile's word never reaches the client;
// every live burst arrives exactly once at its capture time, the first
// ones through the temporary socket and the rest through the main one;
// after the switch the quiet bursts are the user's, with
// speech_profile_processed; the temporary socket's stream is ended with
// CloseStream long before the session ends.
func TestSpeechProfileSession(t *testing.T) {
	dir := t.TempDir()
	writeProfile(t, dir, "u-1", testrig.Signal(16000, 1000, testrig.Burst{StartMs: 300, EndMs: 600, Amplitude: 8000}))
	ended := make(chan emulate.StreamSummary, 4)
	_, dgURL := startEmulator(t, emulate.Config{OnStreamEnd: func(s emulate.StreamSummary) { ended <- s }})
	_, url := startGateway(t, dgURL, pipeline.Config{
		ProfilesDir: dir, ProfilePrefixMs: 3000,
		ProfileSwitch: profile.Config{SettleMs: 200, BoundaryWaitMs: 300},
	})
	const rate = 16000
	pcm, starts := testrig.Alternating(rate, 8)
	c := dialClient(t, url+"?sample_rate=16000&codec=pcm16&uid=u-1")
	c.ReadUntil(t, 10*time.Second, func(c *client) bool { return len(c.Statuses) == 4 })
	td.CmpNoError(t, c.Stream(pcm, rate, 50*time.Millisecond)) // twice real time
	c.ReadUntil(t, 30*time.Second, func(c *client) bool { return len(c.Transcript()) >= len(starts) })
	td.CmpNoError(t, c.Drain(time.Second), "any duplicate would arrive meanwhile")

	segs := c.Transcript()
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].Start < segs[j].Start })
	td.Require(t).Len(segs, len(starts), "every burst once, the profile's none")
	var temporary, main int
	for i, s := range segs {
		td.Cmp(t, s.Start, td.N(starts[i]-starts[0], 0.011), "burst %d at its capture time", i)
		quiet := i%2 == 0
		if s.SpeechProfileProcessed {
			main++
			td.Cmp(t, s.IsUser, quiet, "burst %d: after the switch the quiet voice (the profile's) is the user", i)
		} else {
			td.Cmp(t, main, 0, "burst %d: no temporary-socket segment after a main one", i)
			temporary++
			td.CmpFalse(t, s.IsUser, "burst %d: the temporary socket knows no user", i)
		}
	}
	td.Cmp(t, temporary, td.Gt(0), "the first bursts went through the temporary socket")
	td.Cmp(t, main, td.Gt(1), "the rest through the main one")
	td.Cmp(t, testrig.Metric(t, url, "earshot_upstream_prefix_words_total"), 1.0, "the profile's burst dropped")

	first := <-ended
	td.Cmp(t, first.End, emulate.EndCloseStream, "the temporary socket was ended properly, while the session went on")
	td.CmpTrue(t, first.CloseStream)
	td.Cmp(t, first.AudioBytes, td.Lt(int64(len(pcm))), "it carried only the audio before the switch")
}
