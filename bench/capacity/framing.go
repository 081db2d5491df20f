package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"earshot/client"
	"earshot/internal/packets"
	"earshot/stages/ingest"
)

// framing is what every session of a run sends: the looped conversation
// cut into frames, one binary WebSocket message each, one every Dur. Raw
// PCM (pcm16, pcm8) is cut into frames of -frame-ms; any other codec is
// the device's packets (one per frame, at the packet's duration: 50 a
// second for opus_fs320).
type framing struct {
	Codec          string  `json:"codec"` // the listen URL's codec=
	FrameMs        float64 `json:"frame_ms"`
	FramesPerSec   float64 `json:"frames_per_sec"`
	LoopFrames     int     `json:"loop_frames"`
	MeanFrameBytes float64 `json:"mean_frame_bytes"`
	// Stamped: the frames are raw PCM and carry a stamp (see stamp), so
	// the client → upstream latency of every frame is measured. Encoded
	// frames carry none: a lossy codec does not bring the stamp's bits
	// through the gateway's decoder, and the relay forwards the packets
	// untouched; their latency is measured from the Results' arrival
	// words instead (see arrival.go).
	Stamped bool `json:"stamped"`
	// Source says what made the frames.
	Source string `json:"source"`

	Frames   [][]byte      `json:"-"` // the loop
	Dur      time.Duration `json:"-"` // of one frame
	MaxBytes int           `json:"-"` // the longest frame
}

// defaultFrameMs is the pcm16 frame of the Omi app, and of the first runs.
const defaultFrameMs = 100

// newFraming frames conv for codec. Raw PCM is cut into frameMs frames
// (10 to 1000 ms; a partial frame at the end of the loop is left out).
// Other codecs ignore frameMs: conv is encoded once with client.Encode,
// or, when this build has no encoder for the codec (client.ErrEncoder),
// its packets are read from the fixture of the same recording in
// fixtures/codecs under root and put in conv's order (see planPackets).
// A codec this build's gateway cannot decode is an error.
func newFraming(ctx context.Context, codec string, frameMs int, conv *conversation, root string) (*framing, error) {
	if !slices.Contains(client.Codecs, codec) {
		return nil, fmt.Errorf("-codec: unknown %q (%s)", codec, strings.Join(client.Codecs, ", "))
	}
	if _, err := ingest.ParseCodec(codec, sampleRate); err != nil {
		return nil, fmt.Errorf("-codec: %w (build the harness with the tags the codec needs, e.g. go run -tags libcodecs ./bench/capacity)", err)
	}
	fr := &framing{Codec: codec}
	if ingest.Codec(codec).Raw() {
		if frameMs < 10 || frameMs > 1000 {
			return nil, fmt.Errorf("-frame-ms: %d is not between 10 and 1000", frameMs)
		}
		n := 2 * sampleRate * frameMs / 1000
		for off := 0; off+n <= len(conv.PCM); off += n {
			fr.Frames = append(fr.Frames, conv.PCM[off:off+n])
		}
		fr.Stamped, fr.Dur = true, time.Duration(frameMs)*time.Millisecond
		fr.Source = fmt.Sprintf("raw 16-bit PCM in %d ms frames", frameMs)
		return fr.finish()
	}
	enc, err := client.Encode(ctx, codec, conv.PCM, sampleRate)
	switch {
	case err == nil:
		fr.Frames, fr.Dur = enc.Packets, time.Duration(enc.PacketSamples)*time.Second/sampleRate
		fr.Source = "client.Encode: " + enc.Encoder
	case errors.Is(err, client.ErrEncoder):
		encErr := err
		if fr.Frames, fr.Dur, fr.Source, err = fixtureFrames(root, codec, conv); err != nil {
			return nil, fmt.Errorf("-codec %s: %w; and %w", codec, encErr, err)
		}
		fr.Source += fmt.Sprintf(" (no encoder in this build: %v)", encErr)
	default:
		return nil, fmt.Errorf("-codec %s: %w", codec, err)
	}
	return fr.finish()
}

// finish fills the figures derived from Frames and Dur.
func (fr *framing) finish() (*framing, error) {
	if len(fr.Frames) == 0 || fr.Dur <= 0 {
		return nil, fmt.Errorf("%s: no frames", fr.Codec)
	}
	total := 0
	for _, f := range fr.Frames {
		total += len(f)
		fr.MaxBytes = max(fr.MaxBytes, len(f))
	}
	fr.LoopFrames = len(fr.Frames)
	fr.MeanFrameBytes = float64(total) / float64(len(fr.Frames))
	fr.FrameMs = float64(fr.Dur) / float64(time.Millisecond)
	fr.FramesPerSec = float64(time.Second) / float64(fr.Dur)
	return fr, nil
}

// samples is how many 16 kHz samples one frame of fr lasts.
func (fr *framing) samples() int { return int(fr.Dur * sampleRate / time.Second) }

// isDefault reports whether fr is the harness's first framing: pcm16 in
// 100 ms frames (the README's plot is of that one).
func (fr *framing) isDefault() bool {
	return fr.Codec == string(ingest.CodecPCM16) && fr.Dur == defaultFrameMs*time.Millisecond
}

// maxChannels is the most channels a session may have (the gateway's
// pipeline.MaxChannels; -channels).
const maxChannels = 8

// listenPath is the gateway's listen path and query for fr's audio in
// sessions of channels channels.
func (fr *framing) listenPath(channels int) string {
	return fmt.Sprintf("/v4/listen?language=en&sample_rate=%d&codec=%s&channels=%d", sampleRate, fr.Codec, channels)
}

// channelShift is where in a loop of loopFrames frames channel c (0 to
// channels-1) of a session is, ahead of its channel 0:
// c·⌊loopFrames/channels⌋ frames (channel 2 of two: half the loop, 19.1 s
// of the stretched conversation at 100 ms frames), so that the channels
// do not speak in step. Channel 0 is the session's single-channel audio.
func channelShift(c, channels, loopFrames int) int {
	return c * (loopFrames / channels)
}

// channelFrame builds in buf the message channel c (0-based) of a session
// of channels channels sends with payload: payload itself with one
// channel, [c+1][payload] with more (the gateway's multi-channel frame).
// pcm is the payload's place in msg, where a stamp goes (one byte in with
// several channels; the gateway and the relay pass the payload alone
// upstream, so the stamp is found at its start there). buf holds at least
// len(payload)+1 bytes.
func channelFrame(buf []byte, channels, c int, payload []byte) (msg, pcm []byte) {
	if channels <= 1 {
		msg = buf[:copy(buf, payload)]
		return msg, msg
	}
	buf[0] = byte(c + 1)
	msg = buf[:1+copy(buf[1:], payload)]
	return msg, msg[1:]
}

// everyFrames is how many frames of fr last about ms milliseconds (at
// least 1): the upstream's Results every second of audio, the gate's
// pre-roll in frames.
func (fr *framing) everyFrames(ms int) int {
	return max(1, int((time.Duration(ms)*time.Millisecond+fr.Dur-1)/fr.Dur))
}

// sessionOffset is the frame of a loop of loopFrames frames, each lasting
// dur, that session i starts at: i times offsetStride 100 ms frames
// (3.7 s), rounded to whole frames, so that sessions do not speak in step
// and speak at the same places whatever the framing.
func sessionOffset(i, loopFrames int, dur time.Duration) int {
	stride := max(1, int((offsetStride*defaultFrameMs*time.Millisecond+dur/2)/dur))
	return i * stride % loopFrames
}

// fixtureEntry is the part of fixtures/codecs/manifest.json read here.
type fixtureEntry struct {
	Name       string `json:"name"`
	Codec      string `json:"codec"`
	SampleRate int    `json:"sample_rate"`
	PacketMs   int    `json:"packet_ms"`
	Pkt        string `json:"pkt"`
	Source     string `json:"source"`
	Encoder    string `json:"encoder"`
}

// fixtureFrames reads the first fixture of codec at 16 kHz made from
// conv's recording and puts its packets in conv's order. Its errors say
// what is missing.
func fixtureFrames(root, codec string, conv *conversation) (frames [][]byte, dur time.Duration, source string, err error) {
	dir := filepath.Join(root, "fixtures/codecs")
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, 0, "", fmt.Errorf("no fixture manifest: %w", err)
	}
	var entries []fixtureEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, 0, "", fmt.Errorf("fixture manifest: %w", err)
	}
	i := slices.IndexFunc(entries, func(e fixtureEntry) bool {
		return e.Codec == codec && e.SampleRate == sampleRate && filepath.Base(e.Source) == filepath.Base(conv.SourceFile)
	})
	if i < 0 {
		return nil, 0, "", fmt.Errorf("no fixture of %s at %d Hz made from %s", codec, sampleRate, filepath.Base(conv.SourceFile))
	}
	e := entries[i]
	raw, err := os.ReadFile(filepath.Join(dir, e.Pkt))
	if err != nil {
		return nil, 0, "", fmt.Errorf("fixture %s: %w", e.Name, err)
	}
	pkts, err := packets.Parse(raw)
	if err != nil {
		return nil, 0, "", fmt.Errorf("fixture %s: %w", e.Name, err)
	}
	if frames, err = planPackets(pkts, e.PacketMs, conv.Plan); err != nil {
		return nil, 0, "", fmt.Errorf("fixture %s: %w", e.Name, err)
	}
	source = fmt.Sprintf("fixture fixtures/codecs/%s (%s), pauses stretched in whole packets", e.Pkt, e.Encoder)
	return frames, time.Duration(e.PacketMs) * time.Millisecond, source, nil
}

// planPackets applies plan (the recording's 100 ms frame behind each frame
// of the stretched loop, see stretchPlan) to pkts, packets of packetMs
// each encoded from the same recording: the loop is, for each planned
// frame f, the packets that cover it (f·k to f·k+k-1, k = 100/packetMs).
// packetMs must divide 100, and pkts must cover every planned frame.
func planPackets(pkts [][]byte, packetMs int, plan []int) ([][]byte, error) {
	if packetMs <= 0 || defaultFrameMs%packetMs != 0 {
		return nil, fmt.Errorf("packets of %d ms do not tile %d ms frames", packetMs, defaultFrameMs)
	}
	k := defaultFrameMs / packetMs
	out := make([][]byte, 0, len(plan)*k)
	for _, f := range plan {
		if (f+1)*k > len(pkts) {
			return nil, fmt.Errorf("%d packets end before frame %d (packets %d to %d)", len(pkts), f, f*k, (f+1)*k-1)
		}
		out = append(out, pkts[f*k:(f+1)*k]...)
	}
	return out, nil
}

// sentence describes fr for the progress output and the tables.
func (fr *framing) sentence() string {
	stamp := "each frame stamped (client → upstream latency of every frame measured)"
	if !fr.Stamped {
		stamp = "frames not stamped (the stamp rides in PCM samples, which a lossy codec does not carry through the " +
			"gateway's decoder): the client → upstream latency is measured from the Results' arrival words, one sample " +
			"per Results and session"
	}
	return fmt.Sprintf("codec=%s, %g ms frames, %g frames/s, %d frames a loop, %.0f bytes a frame on average; %s; %s.",
		fr.Codec, fr.FrameMs, fr.FramesPerSec, fr.LoopFrames, fr.MeanFrameBytes, fr.Source, stamp)
}
