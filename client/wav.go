package client

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// WAV sample formats (the fmt chunk's format tag).
const (
	// FormatPCM is integer PCM: 8-bit unsigned, 16-, 24- or 32-bit signed.
	FormatPCM = 1
	// FormatFloat is IEEE float, 32- or 64-bit.
	FormatFloat = 3
	// formatExtensible defers to a sub-format GUID whose first two bytes
	// are FormatPCM or FormatFloat.
	formatExtensible = 0xFFFE
)

// maxChannels bounds the channel count a WAV may declare.
const maxChannels = 64

// ErrNotWAV is returned for data that is not a RIFF/WAVE file.
var ErrNotWAV = errors.New("not a RIFF/WAVE file")

// WAV is a parsed RIFF/WAVE file: its format and its sample data, which
// aliases the parsed bytes.
type WAV struct {
	// Format is FormatPCM or FormatFloat (an extensible file's sub-format).
	Format int
	// SampleRate in Hz and Channels (interleaved in Data).
	SampleRate, Channels int
	// BitsPerSample: 8, 16, 24 or 32 for PCM; 32 or 64 for float.
	BitsPerSample int
	// Data is the data chunk, cut to a whole number of frames.
	Data []byte
}

// ParseWAV parses a RIFF/WAVE file. It accepts PCM (8-bit unsigned, 16-,
// 24- and 32-bit signed little-endian), IEEE float (32- and 64-bit) and
// WAVE_FORMAT_EXTENSIBLE wrapping either, with any rate and 1 to 64
// channels. Chunks other than "fmt " and "data" are skipped. A data chunk
// that claims more bytes than the file has (as streamed writers leave it)
// is cut to what is there; a trailing partial frame is dropped. Anything
// else (compressed formats such as A-law or ADPCM, other sample widths, no
// fmt chunk before the data) is an error naming what is unsupported.
func ParseWAV(b []byte) (*WAV, error) {
	if len(b) < 12 || !bytes.Equal(b[0:4], []byte("RIFF")) || !bytes.Equal(b[8:12], []byte("WAVE")) {
		return nil, ErrNotWAV
	}
	var w *WAV
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int64(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		body := b[off+8:]
		if size <= int64(len(body)) {
			body = body[:size]
		} else if id != "data" {
			return nil, fmt.Errorf("wav: chunk %q is truncated (%d bytes declared, %d present)", id, size, len(body))
		}
		switch id {
		case "fmt ":
			f, err := parseFmt(body)
			if err != nil {
				return nil, err
			}
			w = f
		case "data":
			if w == nil {
				return nil, errors.New("wav: data chunk before the fmt chunk")
			}
			frame := w.Channels * w.BitsPerSample / 8
			w.Data = body[:len(body)/frame*frame]
			return w, nil
		}
		next := int64(off) + 8 + size + size&1 // chunks are word-aligned
		if next > int64(len(b)) {
			break
		}
		off = int(next)
	}
	if w == nil {
		return nil, errors.New("wav: no fmt chunk")
	}
	return nil, errors.New("wav: no data chunk")
}

// parseFmt reads a fmt chunk's body.
func parseFmt(b []byte) (*WAV, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("wav: fmt chunk too short (%d bytes)", len(b))
	}
	tag := int(binary.LittleEndian.Uint16(b[0:2]))
	w := &WAV{
		Format:        tag,
		Channels:      int(binary.LittleEndian.Uint16(b[2:4])),
		SampleRate:    int(binary.LittleEndian.Uint32(b[4:8])),
		BitsPerSample: int(binary.LittleEndian.Uint16(b[14:16])),
	}
	blockAlign := int(binary.LittleEndian.Uint16(b[12:14]))
	if tag == formatExtensible {
		// cbSize(2) validBits(2) channelMask(4) subFormat GUID(16).
		if len(b) < 40 {
			return nil, errors.New("wav: extensible fmt chunk too short")
		}
		w.Format = int(binary.LittleEndian.Uint16(b[24:26]))
	}
	switch {
	case w.Format == FormatPCM && (w.BitsPerSample == 8 || w.BitsPerSample == 16 || w.BitsPerSample == 24 || w.BitsPerSample == 32):
	case w.Format == FormatFloat && (w.BitsPerSample == 32 || w.BitsPerSample == 64):
	case w.Format == FormatPCM || w.Format == FormatFloat:
		return nil, fmt.Errorf("wav: unsupported sample width %d bits for format %d", w.BitsPerSample, w.Format)
	default:
		return nil, fmt.Errorf("wav: unsupported sample format 0x%04x (supported: PCM and IEEE float)", w.Format)
	}
	if w.Channels < 1 || w.Channels > maxChannels {
		return nil, fmt.Errorf("wav: unsupported channel count %d (1-%d)", w.Channels, maxChannels)
	}
	if w.SampleRate < 1 {
		return nil, fmt.Errorf("wav: bad sample rate %d", w.SampleRate)
	}
	if want := w.Channels * w.BitsPerSample / 8; blockAlign != want {
		return nil, fmt.Errorf("wav: block align %d, want %d for %d channels of %d bits", blockAlign, want, w.Channels, w.BitsPerSample)
	}
	return w, nil
}

// Frames is the number of sample frames (one sample per channel each).
func (w *WAV) Frames() int {
	return len(w.Data) / (w.Channels * w.BitsPerSample / 8)
}

// Duration is the audio's length in seconds.
func (w *WAV) Duration() float64 {
	return float64(w.Frames()) / float64(w.SampleRate)
}

// Mono returns the audio downmixed to one channel (the mean of the
// channels) as samples in [-1, 1].
func (w *WAV) Mono() []float32 {
	n, ch, width := w.Frames(), w.Channels, w.BitsPerSample/8
	out := make([]float32, n)
	for i := range n {
		var sum float64
		for c := range ch {
			sum += w.sample(w.Data[(i*ch+c)*width:])
		}
		out[i] = float32(clamp1(sum / float64(ch)))
	}
	return out
}

// sample decodes the sample at the start of b as a value in about [-1, 1].
func (w *WAV) sample(b []byte) float64 {
	switch {
	case w.Format == FormatFloat && w.BitsPerSample == 32:
		return cleanFloat(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))))
	case w.Format == FormatFloat:
		return cleanFloat(math.Float64frombits(binary.LittleEndian.Uint64(b)))
	case w.BitsPerSample == 8:
		return (float64(b[0]) - 128) / 128
	case w.BitsPerSample == 16:
		return float64(int16(binary.LittleEndian.Uint16(b))) / (1 << 15)
	case w.BitsPerSample == 24:
		v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return float64(v) / (1 << 23)
	default:
		return float64(int32(binary.LittleEndian.Uint32(b))) / (1 << 31)
	}
}

// cleanFloat maps NaN to 0 and clamps a float sample to [-1, 1].
func cleanFloat(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return clamp1(v)
}

func clamp1(v float64) float64 {
	return max(-1, min(1, v))
}

// Resample converts mono samples from rate from to rate to by linear
// interpolation between neighbouring samples. Output sample j is taken at
// input position j·from/to; the output has floor(len(x)·to/from) samples.
// There is no anti-aliasing filter: downsampling folds content above the
// new Nyquist frequency back (small for speech, 16 kHz to 8 kHz).
func Resample(x []float32, from, to int) []float32 {
	if from == to || len(x) == 0 {
		return append([]float32(nil), x...)
	}
	n := int(int64(len(x)) * int64(to) / int64(from))
	out := make([]float32, n)
	for j := range n {
		// Integer position and fraction, exact for any rates.
		num := int64(j) * int64(from)
		i := int(num / int64(to))
		f := float32(num%int64(to)) / float32(to)
		a := x[i]
		b := a
		if i+1 < len(x) {
			b = x[i+1]
		}
		out[j] = a + (b-a)*f
	}
	return out
}

// PCM16 encodes samples in [-1, 1] as 16-bit little-endian PCM, rounding
// to the nearest value and clamping.
func PCM16(x []float32) []byte {
	out := make([]byte, 2*len(x))
	for i, v := range x {
		s := math.Round(float64(v) * (1 << 15))
		binary.LittleEndian.PutUint16(out[2*i:], uint16(int16(max(math.MinInt16, min(math.MaxInt16, s)))))
	}
	return out
}

// Prepare turns a WAV into what a session sends: mono 16-bit little-endian
// PCM at rate Hz.
func Prepare(w *WAV, rate int) []byte {
	return PCM16(Resample(w.Mono(), w.SampleRate, rate))
}
