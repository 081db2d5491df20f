//go:build libcodecs && cgo

package libav_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"os/exec"
	"strconv"
	"testing"

	"github.com/maxatome/go-testdeep/td"
)

// testSignal is n samples at rate Hz of three steady tones (300, 1100
// and 2500 Hz) and a linear chirp from 200 Hz to 5 kHz, peaking near
// -6 dBFS.
func testSignal(n, rate int) []int16 {
	out := make([]int16, n)
	dur := float64(n) / float64(rate)
	for i := range out {
		out[i] = int16(math.Round(signalAt(float64(i)/float64(rate), dur) * 32767))
	}
	return out
}

// signalAt is testSignal (dur seconds long) at t seconds, full scale ±1,
// and 0 outside it.
func signalAt(t, dur float64) float64 {
	if t < 0 || t >= dur {
		return 0
	}
	return 0.15*math.Sin(2*math.Pi*300*t) +
		0.1*math.Sin(2*math.Pi*1100*t) +
		0.05*math.Sin(2*math.Pi*2500*t) +
		0.2*math.Sin(2*math.Pi*(200*t+(5000-200)/(2*dur)*t*t))
}

// alignedSNR finds the lag (0..maxLag samples) by which out best
// correlates with ref, and returns it with the SNR in dB of out against
// ref at that lag, over ref[skip:] (the codec's start-up excluded).
func alignedSNR(ref, out []int16, maxLag, skip int) (lag int, snr float64) {
	best := math.Inf(-1)
	for l := 0; l <= maxLag && l < len(out); l++ {
		var c float64
		for i := skip; i < len(ref) && i+l < len(out); i++ {
			c += float64(ref[i]) * float64(out[i+l])
		}
		if c > best {
			best, lag = c, l
		}
	}
	var sig, noise float64
	for i := skip; i < len(ref) && i+lag < len(out); i++ {
		d := float64(ref[i]) - float64(out[i+lag])
		sig += float64(ref[i]) * float64(ref[i])
		noise += d * d
	}
	return lag, 10 * math.Log10(sig/max(noise, 1))
}

// encodeADTS encodes interleaved 16-bit PCM (channels at rate Hz) into
// an ADTS stream of AAC-LC at kbps with the ffmpeg command, or skips the
// test without it.
func encodeADTS(t *testing.T, pcm []int16, rate, channels, kbps int) []byte {
	t.Helper()
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg is not on PATH (apt-get install ffmpeg): it encodes the test streams")
	}
	cmd := exec.Command(bin, "-hide_banner", "-loglevel", "error",
		"-f", "s16le", "-ar", strconv.Itoa(rate), "-ac", strconv.Itoa(channels), "-i", "-",
		"-c:a", "aac", "-b:a", strconv.Itoa(kbps)+"k", "-f", "adts", "-")
	var in, out, stderr bytes.Buffer
	td.Require(t).CmpNoError(binary.Write(&in, binary.LittleEndian, pcm))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = &in, &out, &stderr
	td.Require(t).CmpNoError(cmd.Run(), "ffmpeg: %s", stderr.String())
	return out.Bytes()
}

// adtsFrames splits an ADTS stream into its frames, by their headers.
func adtsFrames(t *testing.T, s []byte) [][]byte {
	t.Helper()
	var frames [][]byte
	for len(s) > 0 {
		td.Require(t).Cmp(len(s), td.Gte(7), "an ADTS header")
		td.Require(t).Cmp(binary.BigEndian.Uint16(s)&0xfff6, uint16(0xfff0), "ADTS syncword, layer 0")
		n := int(s[3]&3)<<11 | int(s[4])<<3 | int(s[5])>>5
		td.Require(t).Cmp(n, td.Between(7, len(s)), "ADTS frame length")
		frames = append(frames, s[:n])
		s = s[n:]
	}
	return frames
}
