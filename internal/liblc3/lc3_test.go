//go:build libcodecs && cgo

package liblc3_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/codectest"
	"earshot/internal/liblc3"
)

const (
	rate       = 16000
	frameUs    = 10000
	frameBytes = 30 // 24 kbit/s
	// minSNR is the lowest SNR (dB) accepted for the round trip.
	minSNR = 16.0 // measured: 19.6 dB
)

func newCodec(t *testing.T) (*liblc3.Encoder, *liblc3.Decoder) {
	t.Helper()
	enc, err := liblc3.NewEncoder(rate, frameUs)
	td.Require(t).CmpNoError(err)
	t.Cleanup(enc.Close)
	dec, err := liblc3.NewDecoder(rate, frameUs)
	td.Require(t).CmpNoError(err)
	t.Cleanup(dec.Close)
	return enc, dec
}

// roundTrip encodes and decodes in frame by frame.
func roundTrip(t *testing.T, enc *liblc3.Encoder, dec *liblc3.Decoder, in []int16) []int16 {
	t.Helper()
	n := enc.FrameSamples()
	frame := make([]byte, frameBytes)
	out := make([]int16, len(in))
	for i := 0; i+n <= len(in); i += n {
		td.Require(t).CmpNoError(enc.Encode(in[i:i+n], frame), "encode frame %d", i/n)
		concealed, err := dec.Decode(frame, out[i:i+n])
		td.Require(t).CmpNoError(err, "decode frame %d", i/n)
		td.CmpFalse(t, concealed)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	td.CmpTrue(t, liblc3.Available)
	enc, dec := newCodec(t)
	td.Cmp(t, enc.FrameSamples(), 160)
	td.Cmp(t, dec.FrameSamples(), 160)
	in := codectest.Signal(rate, rate)
	out := roundTrip(t, enc, dec, in)
	lag, snr := codectest.AlignedSNR(in, out, 1000, 320)
	t.Logf("16 kHz, 10 ms, %d bytes: lag %d samples, SNR %.1f dB", frameBytes, lag, snr)
	td.Cmp(t, snr, td.Gt(minSNR), "SNR in dB")
}

func TestConcealment(t *testing.T) {
	enc, dec := newCodec(t)
	roundTrip(t, enc, dec, codectest.Signal(rate/5, rate))
	pcm := make([]int16, 200)
	pcm[199] = 7
	concealed, err := dec.Decode(nil, pcm)
	td.CmpNoError(t, err)
	td.CmpTrue(t, concealed)
	td.CmpNot(t, pcm[:160], make([]int16, 160), "concealed audio goes on from the last frames")
	td.Cmp(t, pcm[199], int16(7), "past FrameSamples, pcm is left alone")
	concealed, err = dec.Decode([]byte{}, pcm)
	td.CmpNoError(t, err)
	td.CmpTrue(t, concealed, "an empty frame is a lost one")
}

func TestBadFrames(t *testing.T) {
	enc, dec := newCodec(t)
	pcm := make([]int16, 160)
	for _, n := range []int{1, 19, 401, 2000} {
		pcm[0] = 7
		concealed, err := dec.Decode(make([]byte, n), pcm)
		td.CmpTrue(t, errors.Is(err, liblc3.ErrBadFrame), "%d bytes: %v", n, err)
		td.CmpFalse(t, concealed, "%d bytes", n)
		td.Cmp(t, pcm[0], int16(7), "%d bytes: pcm left alone", n)
	}
	_, err := dec.Decode(make([]byte, 30), pcm[:159])
	td.CmpError(t, err, "pcm too short")
	td.CmpFalse(t, errors.Is(err, liblc3.ErrBadFrame))

	// Random bitstreams: liblc3 may detect them (concealed, ErrBadFrame)
	// or decode noise; it must not report anything else.
	rng := rand.New(rand.NewPCG(1, 2))
	frame := make([]byte, frameBytes)
	var detected int
	for range 100 {
		for i := range frame {
			frame[i] = byte(rng.Uint32())
		}
		concealed, err := dec.Decode(frame, pcm)
		if err != nil {
			td.CmpTrue(t, errors.Is(err, liblc3.ErrBadFrame), err)
			td.CmpTrue(t, concealed)
			detected++
		}
	}
	t.Logf("%d of 100 random frames detected as invalid", detected)
	td.Cmp(t, detected, td.Gt(0))

	// The decoder goes on.
	roundTrip(t, enc, dec, codectest.Signal(rate/10, rate))

	td.CmpError(t, enc.Encode(pcm, make([]byte, 19)), "frame too small")
	td.CmpError(t, enc.Encode(pcm[:100], frame), "wrong sample count")
}

func TestParameters(t *testing.T) {
	for _, c := range []struct{ rate, us int }{{44100, 10000}, {16000, 5000}, {0, 0}} {
		_, err := liblc3.NewEncoder(c.rate, c.us)
		td.CmpError(t, err, "%d Hz, %d µs", c.rate, c.us)
		_, err = liblc3.NewDecoder(c.rate, c.us)
		td.CmpError(t, err, "%d Hz, %d µs", c.rate, c.us)
	}
	enc, err := liblc3.NewEncoder(48000, 7500)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, enc.FrameSamples(), 360)
	enc.Close()
	enc.Close()
	td.CmpTrue(t, errors.Is(enc.Encode(make([]int16, 360), make([]byte, 40)), liblc3.ErrClosed))

	dec, err := liblc3.NewDecoder(8000, 10000)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, dec.FrameSamples(), 80)
	dec.Close()
	dec.Close()
	_, err = dec.Decode(nil, make([]int16, 80))
	td.CmpTrue(t, errors.Is(err, liblc3.ErrClosed))
}

func TestNoAllocations(t *testing.T) {
	enc, dec := newCodec(t)
	in := codectest.Signal(160, rate)
	frame := make([]byte, frameBytes)
	pcm := make([]int16, 160)
	td.Cmp(t, testing.AllocsPerRun(100, func() {
		if err := enc.Encode(in, frame); err != nil {
			t.Fatal(err)
		}
	}), 0.0, "Encode")
	td.Cmp(t, testing.AllocsPerRun(100, func() {
		if _, err := dec.Decode(frame, pcm); err != nil {
			t.Fatal(err)
		}
	}), 0.0, "Decode")
	td.Cmp(t, testing.AllocsPerRun(100, func() {
		_, _ = dec.Decode(nil, pcm)
	}), 0.0, "Decode (concealment)")
}
