package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
)

// measure reads the reference decode (o.decoded, else o.ref), records
// its length when it is kept, and, when it is at the rate of the WAV it
// is aligned with (o.align, else o.source), finds the lag at which it
// matches that WAV best, within an eighth of a second either way, and
// the signal-to-noise ratio there.
func measure(o options, e *entry) error {
	path := o.decoded
	if path == "" {
		path = o.ref
	}
	if path == "" {
		return nil
	}
	dec, err := readS16(path)
	if err != nil {
		return err
	}
	if o.ref != "" {
		e.RefSamples = len(dec)
	}
	wav := o.align
	if wav == "" {
		wav = o.source
	}
	rate, src, err := readWAV(wav)
	if err != nil {
		return fmt.Errorf("%s: %w", wav, err)
	}
	if rate != o.refRate {
		return nil
	}
	lag, snr := bestLag(src, dec, rate/8)
	snr = math.Round(snr*100) / 100
	e.SourceDelay, e.RefSNR = &lag, &snr
	return nil
}

// bestLag returns the lag d in [-maxLag, maxLag] maximising the sum of
// src[i]*dec[i+d], and the SNR in dB of dec against src at that lag over
// the samples both have.
func bestLag(src, dec []int16, maxLag int) (int, float64) {
	best, bestDot := 0, int64(math.MinInt64)
	for d := -maxLag; d <= maxLag; d++ {
		var dot int64
		for i := max(0, -d); i < len(src) && i+d < len(dec); i++ {
			dot += int64(src[i]) * int64(dec[i+d])
		}
		if dot > bestDot {
			best, bestDot = d, dot
		}
	}
	var sig, noise float64
	for i := max(0, -best); i < len(src) && i+best < len(dec); i++ {
		s, n := float64(src[i]), float64(src[i])-float64(dec[i+best])
		sig += s * s
		noise += n * n
	}
	return best, 10 * math.Log10(sig/max(noise, 1))
}

// readS16 reads a raw s16le file.
func readS16(path string) ([]int16, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b)%2 != 0 {
		return nil, fmt.Errorf("%s: odd length %d", path, len(b))
	}
	return s16(b), nil
}

func s16(b []byte) []int16 {
	out := make([]int16, len(b)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return out
}

// readWAV reads a 16-bit mono PCM WAV file's rate and samples.
func readWAV(path string) (int, []int16, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, nil, err
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return 0, nil, errors.New("not a RIFF WAVE file")
	}
	rate := 0
	for off := 12; off+8 <= len(b); {
		id, n := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8 : min(off+8+n, len(b))]
		switch {
		case id == "fmt " && len(body) >= 16:
			format, ch, bits := binary.LittleEndian.Uint16(body), binary.LittleEndian.Uint16(body[2:]), binary.LittleEndian.Uint16(body[14:])
			if format != 1 || ch != 1 || bits != 16 {
				return 0, nil, fmt.Errorf("format %d, %d channels, %d bits: want 16-bit mono PCM", format, ch, bits)
			}
			rate = int(binary.LittleEndian.Uint32(body[4:]))
		case id == "data" && rate > 0:
			return rate, s16(body[:len(body)&^1]), nil
		}
		off += 8 + n + n&1
	}
	return 0, nil, errors.New("no fmt chunk before a data chunk")
}
