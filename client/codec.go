package client

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os/exec"
	"strconv"

	"github.com/zaf/g711"

	"earshot/internal/liblc3"
	"earshot/internal/libopus"
	"earshot/internal/packets"
)

// Codecs are the codec names Encode knows, in the gateway's order.
var Codecs = []string{"pcm8", "pcm16", "mulaw8", "mulaw16", "opus", "opus_fs320", "lc3", "lc3_fs1030", "aac"}

// ErrEncoder means this build or machine lacks the encoder a codec needs.
var ErrEncoder = errors.New("no encoder for the codec")

// Encoded is audio encoded the way a device sends it: one packet per
// binary frame, each lasting PacketSamples samples.
type Encoded struct {
	Packets       [][]byte
	PacketSamples int
	// Encoder says what made the packets (library and settings).
	Encoder string
}

// Encode encodes pcm (mono 16-bit little-endian at rateHz) into the packets
// a device sends for codec, with the codecs' reference encoders:
//
//   - opus: libopus, restricted low delay (CELT only), 10 ms packets,
//     32 kbit/s, as the Omi firmware encodes; opus_fs320 the same in
//     20 ms packets (cgo, build tag libcodecs);
//   - lc3, lc3_fs1030: liblc3, 10 ms frames of 30 bytes (cgo, libcodecs);
//   - aac: FFmpeg's AAC-LC encoder run as the ffmpeg command, 32 kbit/s,
//     ADTS, one ADTS frame (1024 samples) per packet;
//   - mulaw8, mulaw16: G.711 µ-law in 20 ms frames.
//
// The last packet is padded with silence to a whole packet. pcm8 and
// pcm16 need no encoding: Encode returns nil packets. A codec whose
// encoder is missing gives an error wrapping ErrEncoder that says what to
// install or build.
func Encode(ctx context.Context, codec string, pcm []byte, rateHz int) (*Encoded, error) {
	samples := make([]int16, len(pcm)/2)
	for i := range samples {
		samples[i] = int16(binary.LittleEndian.Uint16(pcm[2*i:]))
	}
	switch codec {
	case "pcm8", "pcm16":
		return &Encoded{Encoder: "raw"}, nil
	case "mulaw8", "mulaw16":
		return encodeMulaw(samples, rateHz), nil
	case "opus", "opus_fs320":
		ms := 10
		if codec == "opus_fs320" {
			ms = 20
		}
		return encodeOpus(samples, rateHz, ms)
	case "lc3", "lc3_fs1030":
		return encodeLC3(samples, rateHz)
	case "aac":
		return encodeAAC(ctx, pcm, rateHz)
	default:
		return nil, fmt.Errorf("unknown codec %q", codec)
	}
}

// frameOf returns the i-th frame of n samples of x, padded with silence.
func frameOf(x []int16, i, n int, buf []int16) []int16 {
	clear(buf)
	copy(buf, x[min(i*n, len(x)):min((i+1)*n, len(x))])
	return buf
}

func encodeMulaw(x []int16, rateHz int) *Encoded {
	n := rateHz / 50
	out := &Encoded{PacketSamples: n, Encoder: "G.711 µ-law, 20 ms"}
	buf := make([]int16, n)
	for i := range (len(x) + n - 1) / n {
		p := make([]byte, n)
		for j, v := range frameOf(x, i, n, buf) {
			p[j] = g711.EncodeUlawFrame(v)
		}
		out.Packets = append(out.Packets, p)
	}
	return out
}

func encodeOpus(x []int16, rateHz, ms int) (*Encoded, error) {
	enc, err := libopus.NewEncoder(rateHz, libopus.AppRestrictedLowDelay)
	if err != nil {
		return nil, fmt.Errorf("%w: opus: %w", ErrEncoder, err)
	}
	defer enc.Close()
	if err := enc.SetBitrate(32000); err != nil {
		return nil, err
	}
	n := rateHz * ms / 1000
	out := &Encoded{PacketSamples: n, Encoder: fmt.Sprintf("libopus restricted low delay, %d ms, 32 kbit/s", ms)}
	buf, dst := make([]int16, n), make([]byte, 1500)
	for i := range (len(x) + n - 1) / n {
		m, err := enc.Encode(frameOf(x, i, n, buf), dst)
		if err != nil {
			return nil, fmt.Errorf("opus: packet %d: %w", i, err)
		}
		out.Packets = append(out.Packets, bytes.Clone(dst[:m]))
	}
	return out, nil
}

// lc3FrameBytes is Omi's LC3 frame: 30 bytes per 10 ms (24 kbit/s).
const lc3FrameBytes = 30

func encodeLC3(x []int16, rateHz int) (*Encoded, error) {
	enc, err := liblc3.NewEncoder(rateHz, 10000)
	if err != nil {
		return nil, fmt.Errorf("%w: lc3: %w", ErrEncoder, err)
	}
	defer enc.Close()
	n := enc.FrameSamples()
	out := &Encoded{PacketSamples: n, Encoder: "liblc3, 10 ms, 30 bytes"}
	buf := make([]int16, n)
	for i := range (len(x) + n - 1) / n {
		p := make([]byte, lc3FrameBytes)
		if err := enc.Encode(frameOf(x, i, n, buf), p); err != nil {
			return nil, fmt.Errorf("lc3: frame %d: %w", i, err)
		}
		out.Packets = append(out.Packets, p)
	}
	return out, nil
}

// aacFrameSamples is the audio of one AAC-LC frame.
const aacFrameSamples = 1024

func encodeAAC(ctx context.Context, pcm []byte, rateHz int) (*Encoded, error) {
	path, err := exec.LookPath("ffmpeg")
	if err != nil {
		return nil, fmt.Errorf("%w: aac is encoded by the ffmpeg command (apt-get install ffmpeg): %w", ErrEncoder, err)
	}
	rate := strconv.Itoa(rateHz)
	cmd := exec.CommandContext(ctx, path, "-hide_banner", "-loglevel", "error",
		"-f", "s16le", "-ar", rate, "-ac", "1", "-i", "-",
		"-c:a", "aac", "-b:a", "32k", "-f", "adts", "-")
	cmd.Stdin = bytes.NewReader(pcm)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	adts, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("aac: ffmpeg: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	pkts, err := packets.SplitADTS(adts)
	if err != nil {
		return nil, fmt.Errorf("aac: %w", err)
	}
	return &Encoded{Packets: pkts, PacketSamples: aacFrameSamples, Encoder: "FFmpeg aac (AAC-LC), 32 kbit/s, ADTS"}, nil
}
