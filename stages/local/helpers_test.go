//go:build pocketsphinx

package local_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
)

// clip is one speech fixture.
type clip struct {
	name, ref string
	rate      int
	pcm       []byte // linear16 mono
}

// seconds is the clip's length.
func (c clip) seconds() float64 { return float64(len(c.pcm)/2) / float64(c.rate) }

// loadClips reads transcripts.tsv (file, reference, sample_rate, ...) of
// dir and every WAV it names.
func loadClips(t testing.TB, dir string) []clip {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "transcripts.tsv"))
	td.Require(t).CmpNoError(err)
	var clips []clip
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Split(line, "\t")
		if i == 0 || len(f) < 2 {
			continue
		}
		rate, pcm := readWAV(t, filepath.Join(dir, f[0]))
		clips = append(clips, clip{name: f[0], ref: f[1], rate: rate, pcm: pcm})
	}
	td.Require(t).Gt(len(clips), 0, "clips in %s", dir)
	return clips
}

// readWAV returns the rate and the samples of a mono linear16 WAV.
func readWAV(t testing.TB, path string) (int, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	require := td.Require(t)
	require.CmpNoError(err)
	require.Cmp(string(b[:4])+string(b[8:12]), "RIFFWAVE", path)
	var rate int
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8 : min(off+8+size, len(b))]
		switch id {
		case "fmt ":
			require.Cmp(binary.LittleEndian.Uint16(body[0:]), uint16(1), "%s: PCM", path)
			require.Cmp(binary.LittleEndian.Uint16(body[2:]), uint16(1), "%s: mono", path)
			require.Cmp(binary.LittleEndian.Uint16(body[14:]), uint16(16), "%s: 16-bit", path)
			rate = int(binary.LittleEndian.Uint32(body[4:]))
		case "data":
			require.Gt(rate, 0, "%s: fmt before data", path)
			return rate, bytes.Clone(body[:len(body)/2*2])
		}
		off += 8 + size + size&1
	}
	t.Fatalf("%s: no data chunk", path)
	return 0, nil
}

// quiet is the logger of the tests that call local.New themselves (the
// provider logs a line per New).
var quiet = slog.New(slog.DiscardHandler)

// decode streams pcm through one stream of p in frames of frameBytes
// (0: all at once), then CloseStream, and returns every result up to
// io.EOF.
func decode(t testing.TB, p stages.Provider, rate int, pcm []byte, frameBytes int) []stages.Result {
	t.Helper()
	ctx := context.Background()
	s, err := p.Dial(ctx, stages.StreamConfig{SampleRateHz: rate, Channels: 1, Language: "en"})
	require := td.Require(t)
	require.CmpNoError(err)
	defer func() { _ = s.Close() }()
	if frameBytes <= 0 {
		frameBytes = len(pcm)
	}
	for off := 0; off < len(pcm); off += frameBytes {
		require.CmpNoError(s.SendAudio(ctx, pcm[off:min(off+frameBytes, len(pcm))]))
	}
	require.CmpNoError(s.SendControl(ctx, stages.ControlCloseStream))
	var out []stages.Result
	for {
		r, err := s.Recv(ctx)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.CmpNoError(err)
		out = append(out, r)
	}
}

// streamConfig is a mono stream at rate.
func streamConfig(rate int) stages.StreamConfig {
	return stages.StreamConfig{SampleRateHz: rate, Channels: 1, Language: "en"}
}

// transcript joins the words of the final results.
func transcript(rs []stages.Result) string {
	var words []string
	for _, r := range rs {
		if r.IsFinal {
			for _, w := range r.Words {
				words = append(words, w.Word)
			}
		}
	}
	return strings.Join(words, " ")
}

// frameBytes is the size of ms of mono linear16 at rate.
func frameBytes(rate, ms int) int { return rate * ms / 1000 * 2 }

// pct formats a rate as a percentage.
func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }
