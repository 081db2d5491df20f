//go:build libcodecs && cgo

package libav_test

import (
	"bytes"
	"encoding/binary"
	"os/exec"
	"strconv"
	"testing"

	"github.com/maxatome/go-testdeep/td"
)

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
