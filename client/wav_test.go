package client_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/client"
)

// chunk is one RIFF chunk.
type chunk struct {
	id   string
	body []byte
}

// riff assembles a RIFF/WAVE file from chunks, padding odd ones.
func riff(chunks ...chunk) []byte {
	var b bytes.Buffer
	for _, c := range chunks {
		b.WriteString(c.id)
		_ = binary.Write(&b, binary.LittleEndian, uint32(len(c.body)))
		b.Write(c.body)
		if len(c.body)%2 == 1 {
			b.WriteByte(0)
		}
	}
	out := append([]byte("RIFF\x00\x00\x00\x00WAVE"), b.Bytes()...)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// fmtChunk is a plain fmt chunk.
func fmtChunk(format, channels, rate, bits int) chunk {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b[0:], uint16(format))
	binary.LittleEndian.PutUint16(b[2:], uint16(channels))
	binary.LittleEndian.PutUint32(b[4:], uint32(rate))
	binary.LittleEndian.PutUint32(b[8:], uint32(rate*channels*bits/8))
	binary.LittleEndian.PutUint16(b[12:], uint16(channels*bits/8))
	binary.LittleEndian.PutUint16(b[14:], uint16(bits))
	return chunk{"fmt ", b}
}

// extensibleFmt is a WAVE_FORMAT_EXTENSIBLE fmt chunk with sub-format sub.
func extensibleFmt(sub, channels, rate, bits int) chunk {
	c := fmtChunk(0xFFFE, channels, rate, bits)
	ext := make([]byte, 24)
	binary.LittleEndian.PutUint16(ext[0:], 22)
	binary.LittleEndian.PutUint16(ext[2:], uint16(bits))
	binary.LittleEndian.PutUint16(ext[8:], uint16(sub))
	copy(ext[10:], "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xAA\x00\x38\x9B\x71")
	c.body = append(c.body, ext...)
	return c
}

// pcm16 is 16-bit little-endian PCM of samples.
func pcm16(samples ...int16) []byte {
	b := make([]byte, 2*len(samples))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return b
}

func TestParseWAVFormats(t *testing.T) {
	f32 := func(vs ...float32) []byte {
		b := make([]byte, 4*len(vs))
		for i, v := range vs {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b
	}
	f64 := func(vs ...float64) []byte {
		b := make([]byte, 8*len(vs))
		for i, v := range vs {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
		}
		return b
	}
	for _, tc := range []struct {
		name   string
		fmt    chunk
		data   []byte
		format int
		bits   int
		mono   []float32
	}{
		{"pcm8 (unsigned)", fmtChunk(1, 1, 8000, 8), []byte{128, 255, 0, 192}, client.FormatPCM, 8,
			[]float32{0, 127.0 / 128, -1, 0.5}},
		{"pcm16", fmtChunk(1, 1, 16000, 16), pcm16(0, 16384, -32768, 32767), client.FormatPCM, 16,
			[]float32{0, 0.5, -1, 32767.0 / 32768}},
		{"pcm24", fmtChunk(1, 1, 48000, 24), []byte{0, 0, 0x40, 0, 0, 0x80, 0xff, 0xff, 0xff}, client.FormatPCM, 24,
			[]float32{0.5, -1, -1.0 / (1 << 23)}},
		{"pcm32", fmtChunk(1, 1, 44100, 32), []byte{0, 0, 0, 0xC0, 0, 0, 0, 0x40}, client.FormatPCM, 32,
			[]float32{-0.5, 0.5}},
		{"float32, clamped, NaN as 0", fmtChunk(3, 1, 22050, 32), f32(0.25, -2, float32(math.NaN())), client.FormatFloat, 32,
			[]float32{0.25, -1, 0}},
		{"float64", fmtChunk(3, 1, 22050, 64), f64(-0.75, 1), client.FormatFloat, 64,
			[]float32{-0.75, 1}},
		{"extensible pcm16", extensibleFmt(1, 1, 16000, 16), pcm16(8192), client.FormatPCM, 16,
			[]float32{0.25}},
		{"extensible float32", extensibleFmt(3, 1, 16000, 32), f32(0.125), client.FormatFloat, 32,
			[]float32{0.125}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := client.ParseWAV(riff(tc.fmt, chunk{"data", tc.data}))
			td.Require(t).CmpNoError(err)
			td.Cmp(t, w.Format, tc.format)
			td.Cmp(t, w.BitsPerSample, tc.bits)
			td.Cmp(t, w.Channels, 1)
			td.Cmp(t, w.Frames(), len(tc.mono))
			td.Cmp(t, w.Mono(), tc.mono)
		})
	}
}

func TestParseWAVChunks(t *testing.T) {
	t.Run("other chunks skipped, odd ones padded", func(t *testing.T) {
		w, err := client.ParseWAV(riff(
			chunk{"LIST", []byte("odd")},
			fmtChunk(1, 2, 16000, 16),
			chunk{"fact", []byte{1, 2, 3, 4}},
			chunk{"data", pcm16(100, 200, 300, 400)},
			chunk{"junk", []byte{9}},
		))
		td.Require(t).CmpNoError(err)
		td.Cmp(t, w, &client.WAV{Format: 1, SampleRate: 16000, Channels: 2, BitsPerSample: 16, Data: pcm16(100, 200, 300, 400)})
		td.Cmp(t, w.Frames(), 2)
		td.Cmp(t, w.Duration(), 2.0/16000)
	})
	t.Run("data longer than the file is cut, partial frame dropped", func(t *testing.T) {
		b := riff(fmtChunk(1, 2, 8000, 16), chunk{"data", pcm16(1, 2, 3, 4, 5)})
		// Claim 0xFFFFFFFF bytes, as a streamed writer leaves it.
		i := bytes.Index(b, []byte("data"))
		binary.LittleEndian.PutUint32(b[i+4:], math.MaxUint32)
		b = b[:len(b)-1] // and lose the last byte
		w, err := client.ParseWAV(b)
		td.Require(t).CmpNoError(err)
		td.Cmp(t, w.Data, pcm16(1, 2, 3, 4))
	})
	t.Run("empty data", func(t *testing.T) {
		w, err := client.ParseWAV(riff(fmtChunk(1, 1, 8000, 16), chunk{"data", nil}))
		td.Require(t).CmpNoError(err)
		td.Cmp(t, w.Frames(), 0)
		td.Cmp(t, w.Mono(), []float32{})
	})
}

func TestParseWAVErrors(t *testing.T) {
	data := chunk{"data", pcm16(1, 2)}
	badAlign := fmtChunk(1, 2, 8000, 16)
	binary.LittleEndian.PutUint16(badAlign.body[12:], 3)
	shortExt := fmtChunk(0xFFFE, 1, 8000, 16)
	for _, tc := range []struct {
		name string
		in   []byte
		err  any
	}{
		{"empty", nil, client.ErrNotWAV},
		{"RIFF but not WAVE", []byte("RIFF\x04\x00\x00\x00AVI "), client.ErrNotWAV},
		{"RIFX (big-endian)", []byte("RIFX\x04\x00\x00\x00WAVE"), client.ErrNotWAV},
		{"no chunks", riff(), td.Smuggle(errString, "wav: no fmt chunk")},
		{"no data", riff(fmtChunk(1, 1, 8000, 16)), td.Smuggle(errString, "wav: no data chunk")},
		{"data before fmt", riff(data, fmtChunk(1, 1, 8000, 16)), td.Smuggle(errString, "wav: data chunk before the fmt chunk")},
		{"A-law", riff(fmtChunk(6, 1, 8000, 8), data), td.Smuggle(errString, td.Contains("unsupported sample format 0x0006"))},
		{"IMA ADPCM", riff(fmtChunk(0x11, 1, 8000, 4), data), td.Smuggle(errString, td.Contains("unsupported sample format 0x0011"))},
		{"12-bit PCM", riff(fmtChunk(1, 1, 8000, 12), data), td.Smuggle(errString, td.Contains("unsupported sample width 12 bits"))},
		{"16-bit float", riff(fmtChunk(3, 1, 8000, 16), data), td.Smuggle(errString, td.Contains("unsupported sample width 16 bits"))},
		{"extensible A-law", riff(extensibleFmt(6, 1, 8000, 8), data), td.Smuggle(errString, td.Contains("unsupported sample format 0x0006"))},
		{"extensible too short", riff(shortExt, data), td.Smuggle(errString, td.Contains("extensible fmt chunk too short"))},
		{"no channels", riff(fmtChunk(1, 0, 8000, 16), data), td.Smuggle(errString, td.Contains("channel count 0"))},
		{"too many channels", riff(fmtChunk(1, 65, 8000, 16), data), td.Smuggle(errString, td.Contains("channel count 65"))},
		{"rate 0", riff(fmtChunk(1, 1, 0, 16), data), td.Smuggle(errString, td.Contains("bad sample rate 0"))},
		{"block align", riff(badAlign, data), td.Smuggle(errString, td.Contains("block align 3, want 4"))},
		{"fmt too short", riff(chunk{"fmt ", []byte{1, 0, 1, 0}}, data), td.Smuggle(errString, td.Contains("fmt chunk too short"))},
		{"truncated fmt", riff(fmtChunk(1, 1, 8000, 16))[:30], td.Smuggle(errString, td.Contains(`chunk "fmt " is truncated`))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := client.ParseWAV(tc.in)
			td.Cmp(t, w, td.Nil())
			td.Cmp(t, err, tc.err)
		})
	}
}

func errString(err error) string { return err.Error() }

func TestMonoDownmix(t *testing.T) {
	// Stereo: left 0.5, right -0.25; then left -1, right -1.
	w, err := client.ParseWAV(riff(fmtChunk(1, 2, 16000, 16), chunk{"data", pcm16(16384, -8192, -32768, -32768)}))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, w.Mono(), []float32{0.125, -1})

	// Three channels of 8-bit.
	w, err = client.ParseWAV(riff(fmtChunk(1, 3, 8000, 8), chunk{"data", []byte{128 + 96, 128, 128 - 48}}))
	td.Require(t).CmpNoError(err)
	td.Cmp(t, w.Mono(), []float32{0.125})
}

func TestResample(t *testing.T) {
	x := []float32{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7}
	t.Run("same rate copies", func(t *testing.T) {
		y := client.Resample(x, 16000, 16000)
		td.Cmp(t, y, x)
		y[0] = 9
		td.Cmp(t, x[0], float32(0), "a copy, not an alias")
	})
	t.Run("halving takes every other sample", func(t *testing.T) {
		td.Cmp(t, client.Resample(x, 16000, 8000), []float32{0, 0.2, 0.4, 0.6})
	})
	t.Run("doubling interpolates midpoints, holds the last", func(t *testing.T) {
		y := client.Resample([]float32{0, 1, -1}, 8000, 16000)
		td.Cmp(t, y, []float32{0, 0.5, 1, 0, -1, -1})
	})
	t.Run("empty", func(t *testing.T) {
		td.Cmp(t, client.Resample(nil, 44100, 16000), td.Empty())
	})
	t.Run("lengths", func(t *testing.T) {
		for _, tc := range []struct{ n, from, to, want int }{
			{44100, 44100, 16000, 16000},
			{16000, 16000, 8000, 8000},
			{8000, 8000, 16000, 16000},
			{22050, 22050, 16000, 16000},
			{1001, 48000, 16000, 333},
		} {
			td.Cmp(t, len(client.Resample(make([]float32, tc.n), tc.from, tc.to)), tc.want, "%d at %d -> %d", tc.n, tc.from, tc.to)
		}
	})
	t.Run("a tone keeps its frequency", func(t *testing.T) {
		const hz = 440.0
		in := make([]float32, 44100)
		for i := range in {
			in[i] = float32(0.8 * math.Sin(2*math.Pi*hz*float64(i)/44100))
		}
		out := client.Resample(in, 44100, 16000)
		crossings := 0
		for i := 1; i < len(out); i++ {
			if (out[i-1] < 0) != (out[i] < 0) {
				crossings++
			}
		}
		td.Cmp(t, crossings, td.Between(int(2*hz)-2, int(2*hz)+2), "zero crossings in one second")
		// Each output sample matches the tone at its own time.
		for j := 0; j < len(out); j += 997 {
			want := 0.8 * math.Sin(2*math.Pi*hz*float64(j)/16000)
			td.Cmp(t, float64(out[j]), td.N(want, 0.01), "sample %d", j)
		}
	})
}

func TestPCM16(t *testing.T) {
	td.Cmp(t, client.PCM16([]float32{0, 0.5, -0.5, 1, -1, 2, -2, 1.0 / 65536, -3.0 / 65536}),
		pcm16(0, 16384, -16384, 32767, -32768, 32767, -32768, 1, -2))
}

// fixtureRow is one line of fixtures/speech-synth/transcripts.tsv.
type fixtureRow struct {
	file, text string
	rate       int
	duration   float64
}

func fixtures(t *testing.T) (string, []fixtureRow) {
	t.Helper()
	dir := filepath.Join("..", "fixtures", "speech-synth")
	b, err := os.ReadFile(filepath.Join(dir, "transcripts.tsv"))
	td.Require(t).CmpNoError(err)
	var rows []fixtureRow
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		cols := strings.Split(line, "\t")
		td.Require(t).Len(cols, 4, "line %d", i+1)
		if i == 0 {
			td.Require(t).Cmp(cols, []string{"file", "text", "sample_rate", "duration_s"})
			continue
		}
		rate, err := strconv.Atoi(cols[2])
		td.Require(t).CmpNoError(err)
		dur, err := strconv.ParseFloat(cols[3], 64)
		td.Require(t).CmpNoError(err)
		rows = append(rows, fixtureRow{cols[0], cols[1], rate, dur})
	}
	td.Require(t).Gte(len(rows), 6)
	return dir, rows
}

// TestFixtures parses the synthesized speech fixtures, checks them
// against transcripts.tsv, and prepares each at 8 and 16 kHz.
func TestFixtures(t *testing.T) {
	dir, rows := fixtures(t)
	for _, r := range rows {
		t.Run(r.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, r.file))
			td.Require(t).CmpNoError(err)
			w, err := client.ParseWAV(b)
			td.Require(t).CmpNoError(err)
			td.Cmp(t, w.SampleRate, r.rate)
			td.Cmp(t, w.Channels, 1)
			td.Cmp(t, w.BitsPerSample, 16)
			td.Cmp(t, w.Duration(), td.N(r.duration, 0.001))
			for _, rate := range []int{8000, 16000} {
				pcm := client.Prepare(w, rate)
				td.Cmp(t, len(pcm)/2, w.Frames()*rate/r.rate, "samples at %d Hz", rate)
				// The script leaves 0.5 s of silence (or quiet noise) first.
				onset, ok := client.SpeechOnset(pcm, rate)
				td.Cmp(t, ok, true, "speech at %d Hz", rate)
				td.Cmp(t, onset, td.Between(0.45, 0.6), "onset at %d Hz", rate)
			}
			td.Cmp(t, len(client.Words(r.text)), td.Gte(7))
		})
	}
}

func TestSpeechOnset(t *testing.T) {
	const rate = 16000
	silence := make([]float32, rate)
	_, ok := client.SpeechOnset(client.PCM16(silence), rate)
	td.Cmp(t, ok, false, "silence")

	// Noise around -45 dBFS RMS: not speech.
	noise := make([]float32, rate)
	seed := uint32(1)
	for i := range noise {
		seed = seed*1664525 + 1013904223
		noise[i] = (float32(seed>>8)/(1<<24)*2 - 1) * 0.01
	}
	_, ok = client.SpeechOnset(client.PCM16(noise), rate)
	td.Cmp(t, ok, false, "quiet noise")

	// A tone from 300 ms at -10 dBFS.
	tone := append([]float32(nil), noise...)
	for i := rate * 3 / 10; i < rate*6/10; i++ {
		tone[i] += float32(0.3 * math.Sin(2*math.Pi*440*float64(i)/rate))
	}
	at, ok := client.SpeechOnset(client.PCM16(tone), rate)
	td.Cmp(t, ok, true)
	td.Cmp(t, at, 0.3)

	_, ok = client.SpeechOnset(nil, rate)
	td.Cmp(t, ok, false, "no audio")
}
