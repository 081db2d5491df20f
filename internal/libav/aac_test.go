//go:build libcodecs && cgo

package libav_test

import (
	"errors"
	"math"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/codectest"
	"earshot/internal/libav"
)

// minSNR is the lowest SNR (dB) accepted for 16 kHz mono at 48 kbit/s.
const minSNR = 15.0 // measured: 18.6 dB

func newDecoder(t *testing.T, rate int) *libav.AACDecoder {
	t.Helper()
	d, err := libav.NewAACDecoder(rate)
	td.Require(t).CmpNoError(err)
	t.Cleanup(d.Close)
	return d
}

func TestSplitsGiveTheSameAudio(t *testing.T) {
	td.CmpTrue(t, libav.Available)
	in := codectest.Signal(16000, 16000)
	stream := encodeADTS(t, in, 16000, 1, 48)
	frames := adtsFrames(t, stream)

	d := newDecoder(t, 16000)
	var perFrame []int16
	for i, f := range frames {
		var err error
		before := len(perFrame)
		perFrame, err = d.Decode(f, perFrame)
		td.Require(t).CmpNoError(err, "frame %d", i)
		td.Cmp(t, len(perFrame)-before, 1024, "frame %d: its samples at once", i)
	}

	d = newDecoder(t, 16000)
	var split []int16
	for i := 0; i < len(stream); i += 100 {
		var err error
		split, err = d.Decode(stream[i:min(i+100, len(stream))], split)
		td.Require(t).CmpNoError(err, "bytes %d..", i)
	}
	td.Cmp(t, split, perFrame, "100-byte pieces")

	d = newDecoder(t, 16000)
	whole, err := d.Decode(stream, nil)
	td.CmpNoError(t, err)
	td.Cmp(t, whole, perFrame, "the whole stream at once")

	lag, snr := codectest.AlignedSNR(in, perFrame, 2048, 320)
	t.Logf("%d frames, %d samples; lag %d samples, SNR %.1f dB", len(frames), len(perFrame), lag, snr)
	td.Cmp(t, snr, td.Gt(minSNR), "SNR in dB")
}

func TestResampledStereo(t *testing.T) {
	const rate = 44100
	mono := codectest.Signal(rate, rate)
	stereo := make([]int16, 2*len(mono))
	for i, v := range mono {
		stereo[2*i], stereo[2*i+1] = v, v/2
	}
	stream := encodeADTS(t, stereo, rate, 2, 96)
	frames := adtsFrames(t, stream)

	d := newDecoder(t, 16000)
	out, err := d.Decode(stream, nil)
	td.CmpNoError(t, err)
	// 1 s of input plus the encoder's priming (1024 samples), then padded
	// to whole frames; one frame at 16 kHz is 371.5 samples.
	const frame = 1024 * 16000 / rate
	want := (rate + 1024) * 16000 / rate
	t.Logf("%d frames: %d samples at 16 kHz, want %d ± %d", len(frames), len(out), want, frame)
	td.Cmp(t, len(out), td.Between(want-frame, want+frame), "duration")
	all := len(frames) * 1024 * 16000 / rate
	td.Cmp(t, len(out), td.Between(all-frame, all), "every frame decoded (less the resampler's lag)")

	// The reference: the same signal (the channels' mean is 3/4 of it)
	// at 16 kHz, delayed by the priming, a fractional number of samples.
	ref := make([]int16, 16000+frame)
	for i := range ref {
		ref[i] = int16(math.Round(0.75 * 32767 * codectest.SignalAt(float64(i)/16000-1024.0/rate, 1)))
	}
	lag, snr := codectest.AlignedSNR(ref, out, 100, 800)
	t.Logf("resampled to 16 kHz: lag %d samples, SNR %.1f dB", lag, snr)
	td.Cmp(t, snr, td.Gt(minResampledSNR), "SNR in dB")
}

// minResampledSNR is the lowest SNR (dB) accepted for 44.1 kHz stereo at
// 96 kbit/s, downmixed and resampled to 16 kHz.
const minResampledSNR = 21.0 // measured: 25.0 dB

func TestRateChange(t *testing.T) {
	at16 := encodeADTS(t, codectest.Signal(8000, 16000), 16000, 1, 48)
	stereo := make([]int16, 2*22050)
	for i, v := range codectest.Signal(22050, 44100) {
		stereo[2*i], stereo[2*i+1] = v, v
	}
	at44 := encodeADTS(t, stereo, 44100, 2, 96)
	n16, n44 := len(adtsFrames(t, at16))*1024, len(adtsFrames(t, at44))*1024*16000/44100

	d := newDecoder(t, 16000)
	var out []int16
	var sizes []int
	for _, part := range [][]byte{at16, at44, at16} {
		before := len(out)
		var err error
		out, err = d.Decode(part, out)
		td.Require(t).CmpNoError(err)
		sizes = append(sizes, len(out)-before)
	}
	td.Cmp(t, sizes[0], n16)
	td.Cmp(t, sizes[1], td.Between(n44-30, n44), "less the resampler's lag")
	td.Cmp(t, sizes[2], n16, "back at 16 kHz")
}

func TestCorruptFrame(t *testing.T) {
	stream := encodeADTS(t, codectest.Signal(16000, 16000), 16000, 1, 48)
	frames := adtsFrames(t, stream)
	clean, err := newDecoder(t, 16000).Decode(stream, nil)
	td.Require(t).CmpNoError(err)

	const bad = 5
	d := newDecoder(t, 16000)
	var out []int16
	var refused int
	for i, f := range frames {
		if i == bad {
			f = append([]byte(nil), f...)
			for j := len(f) / 3; j < 2*len(f)/3; j++ {
				f[j] ^= 0xa5
			}
		}
		before := len(out)
		out, err = d.Decode(f, out)
		if i == bad && err != nil {
			td.CmpTrue(t, errors.Is(err, libav.ErrBadFrame), err)
			t.Logf("corrupted frame refused: %v", err)
			refused++
			continue
		}
		td.Require(t).CmpNoError(err, "frame %d", i)
		td.Cmp(t, len(out)-before, 1024, "frame %d decodes", i)
	}
	// Past the frame after the bad one (their overlap), the audio is the
	// clean stream's.
	tail := (len(frames) - bad - 2) * 1024
	td.Cmp(t, out[len(out)-tail:], clean[len(clean)-tail:], "frames after the bad one")
	t.Logf("refused %d", refused)
}

func TestGarbage(t *testing.T) {
	d := newDecoder(t, 16000)
	hdr := adtsFrames(t, encodeADTS(t, codectest.Signal(1600, 16000), 16000, 1, 48))[1]
	junk := append([]byte(nil), hdr[:7]...)
	for i := 7; i < len(hdr); i++ {
		junk = append(junk, byte(i*37))
	}
	out, err := d.Decode(junk, nil)
	t.Logf("a header with junk: %d samples, %v", len(out), err)
	if err != nil {
		td.CmpTrue(t, errors.Is(err, libav.ErrBadFrame))
	}
	out, err = d.Decode([]byte("not an ADTS stream at all, only text"), out)
	td.CmpNoError(t, err, "bytes without a syncword are skipped")
	_ = out
}

func TestClosedAndArguments(t *testing.T) {
	_, err := libav.NewAACDecoder(0)
	td.CmpError(t, err)
	d, err := libav.NewAACDecoder(16000)
	td.Require(t).CmpNoError(err)
	d.Close()
	d.Close()
	pcm, err := d.Decode([]byte{0xff, 0xf1}, []int16{1})
	td.CmpTrue(t, errors.Is(err, libav.ErrClosed))
	td.Cmp(t, pcm, []int16{1})
}

func TestSteadyStateAllocations(t *testing.T) {
	for _, c := range []struct{ in, out int }{{16000, 16000}, {16000, 8000}} {
		frames := adtsFrames(t, encodeADTS(t, codectest.Signal(c.in/2, c.in), c.in, 1, 48))
		d := newDecoder(t, c.out)
		pcm := make([]int16, 0, 4096)
		i := 0
		allocs := testing.AllocsPerRun(len(frames)-1, func() {
			var err error
			if pcm, err = d.Decode(frames[i%len(frames)], pcm[:0]); err != nil {
				t.Fatal(err)
			}
			i++
		})
		td.Cmp(t, allocs, 0.0, "%d Hz stream to %d Hz", c.in, c.out)
	}
}
