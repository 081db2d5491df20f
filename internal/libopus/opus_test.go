//go:build libcodecs && cgo

package libopus_test

import (
	"errors"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/codectest"
	"earshot/internal/libopus"
)

const rate = 16000

func newEncoder(t *testing.T, app libopus.Application) *libopus.Encoder {
	t.Helper()
	enc, err := libopus.NewEncoder(rate, app)
	td.Require(t).CmpNoError(err)
	t.Cleanup(enc.Close)
	return enc
}

func newDecoder(t *testing.T) *libopus.Decoder {
	t.Helper()
	dec, err := libopus.NewDecoder(rate)
	td.Require(t).CmpNoError(err)
	t.Cleanup(dec.Close)
	return dec
}

func TestRestrictedLowDelayRoundTrip(t *testing.T) {
	td.CmpTrue(t, libopus.Available)
	enc := newEncoder(t, libopus.AppRestrictedLowDelay)
	td.CmpNoError(t, enc.SetBitrate(32000))
	td.CmpNoError(t, enc.SetComplexity(10))
	td.CmpNoError(t, enc.SetVBR(false))
	td.CmpNoError(t, enc.SetBandwidth(libopus.BandwidthWide))
	td.CmpNoError(t, enc.SetSignal(libopus.SignalMusic))

	in := codectest.Signal(rate, rate) // 1 s
	pkts := encodeAll(t, enc, in, rate/100)
	td.Cmp(t, len(pkts), 100, "10 ms frames")
	for i, p := range pkts {
		td.Cmp(t, tocConfig(p), td.Gte(16), "packet %d is CELT-only", i)
		td.Cmp(t, len(p), 40, "packet %d: CBR, 32 kbps × 10 ms", i)
	}

	out := decodeAll(t, newDecoder(t), pkts)
	td.Cmp(t, len(out), len(in))
	lag, snr := codectest.AlignedSNR(in, out, 1000, 320)
	t.Logf("restricted low delay, 32 kbps CBR: lag %d samples, SNR %.1f dB", lag, snr)
	td.Cmp(t, snr, td.Gt(minSNR), "SNR in dB")
}

// minSNR is the lowest SNR (dB) accepted for TestRestrictedLowDelayRoundTrip.
const minSNR = 12.0 // measured: 14.7 dB

func TestVoIPIsSILK(t *testing.T) {
	enc := newEncoder(t, libopus.AppVoIP)
	td.CmpNoError(t, enc.SetBitrate(12000))
	td.CmpNoError(t, enc.SetSignal(libopus.SignalVoice))
	pkts := encodeAll(t, enc, codectest.Signal(rate, rate), rate/50)
	td.Cmp(t, len(pkts), 50, "20 ms frames")
	for i, p := range pkts {
		td.Cmp(t, tocConfig(p), td.Lte(11), "packet %d is SILK-only", i)
	}
	out := decodeAll(t, newDecoder(t), pkts)
	td.Cmp(t, len(out), rate)
}

func TestConcealment(t *testing.T) {
	enc := newEncoder(t, libopus.AppVoIP)
	dec := newDecoder(t)
	pkts := encodeAll(t, enc, codectest.Signal(rate/5, rate), rate/50)
	decodeAll(t, dec, pkts)

	pcm := make([]int16, rate/50)
	n, err := dec.Decode(nil, pcm)
	td.CmpNoError(t, err)
	td.Cmp(t, n, len(pcm), "a lost 20 ms packet")
	n, err = dec.Decode([]byte{}, pcm[:rate/100])
	td.CmpNoError(t, err)
	td.Cmp(t, n, rate/100, "a lost 10 ms packet")
	_, err = dec.Decode(nil, pcm[:7])
	td.CmpError(t, err, "concealment needs a multiple of 2.5 ms")
	td.CmpFalse(t, errors.Is(err, libopus.ErrBadPacket))
}

func TestBadPackets(t *testing.T) {
	dec := newDecoder(t)
	pcm := make([]int16, 5760)
	bad := map[string][]byte{
		"one frame over 1275 bytes": append([]byte{0xf8}, make([]byte, 1276)...),
		"code 3 with no frames":     {0xfb, 0x00, 1, 2, 3},
		"code 3 CBR, odd length":    {0xfb, 0x03, 1, 2, 3, 4},
		"code 2 first frame longer": {0xfa, 200, 1, 2, 3},
		"code 3 over 120 ms":        {0x1b, 0x07, 1, 2, 3, 4, 5, 6, 7},
	}
	for name, p := range bad {
		n, err := dec.Decode(p, pcm)
		td.Cmp(t, n, 0, name)
		td.CmpTrue(t, errors.Is(err, libopus.ErrBadPacket), "%s: %v", name, err)
		td.Cmp(t, err, td.Smuggle(func(e error) string { return e.Error() }, td.Contains("corrupted stream")), name)
	}

	// The decoder goes on.
	pkts := encodeAll(t, newEncoder(t, libopus.AppVoIP), codectest.Signal(rate/10, rate), rate/50)
	td.Cmp(t, len(decodeAll(t, dec, pkts)), rate/10)
}

func TestClosed(t *testing.T) {
	enc, err := libopus.NewEncoder(rate, libopus.AppAudio)
	td.Require(t).CmpNoError(err)
	enc.Close()
	enc.Close()
	_, err = enc.Encode(make([]int16, 160), make([]byte, 100))
	td.CmpTrue(t, errors.Is(err, libopus.ErrClosed))
	td.CmpTrue(t, errors.Is(enc.SetBitrate(8000), libopus.ErrClosed))

	dec, err := libopus.NewDecoder(rate)
	td.Require(t).CmpNoError(err)
	dec.Close()
	dec.Close()
	_, err = dec.Decode(nil, make([]int16, 160))
	td.CmpTrue(t, errors.Is(err, libopus.ErrClosed))

	_, err = libopus.NewDecoder(44100)
	td.CmpError(t, err, "44.1 kHz is not an Opus rate")
	_, err = libopus.NewEncoder(rate, libopus.Application(7))
	td.CmpError(t, err)
}

func TestNoAllocations(t *testing.T) {
	enc := newEncoder(t, libopus.AppVoIP)
	dec := newDecoder(t)
	in := codectest.Signal(rate/50, rate)
	pkt := make([]byte, 1275)
	pcm := make([]int16, len(in))
	var n int
	td.Cmp(t, testing.AllocsPerRun(100, func() {
		n, _ = enc.Encode(in, pkt)
	}), 0.0, "Encode")
	td.Cmp(t, testing.AllocsPerRun(100, func() {
		if _, err := dec.Decode(pkt[:n], pcm); err != nil {
			t.Fatal(err)
		}
	}), 0.0, "Decode")
	td.Cmp(t, testing.AllocsPerRun(100, func() {
		_, _ = dec.Decode(nil, pcm)
	}), 0.0, "Decode (concealment)")
}
