package ingest

import (
	"context"
	"fmt"

	"earshot/stages"
)

// Codec names a client audio encoding (spec/listen-protocol.md).
type Codec string

// The codecs ingest decodes. pcm8 and pcm16 are both raw little-endian
// signed 16-bit mono PCM; the digit names the device's kHz, the real rate is
// the session's sample_rate.
const (
	CodecPCM8  Codec = "pcm8"
	CodecPCM16 Codec = "pcm16"
)

// ParseCodec validates a client codec name. Unknown names wrap ErrBadAudio.
func ParseCodec(s string) (Codec, error) {
	switch c := Codec(s); c {
	case CodecPCM8, CodecPCM16:
		return c, nil
	default:
		return "", fmt.Errorf("%w: unsupported codec %q (supported: pcm8, pcm16)", ErrBadAudio, s)
	}
}

// MinAudioFrameBytes is the smallest binary frame that carries audio: the
// app answers the server's ping with two bytes (0x8A 0x00), so frames of two
// bytes or less are ignored.
const MinAudioFrameBytes = 3

// Config configures the ingest stage.
type Config struct {
	// Codec of the client's binary frames.
	Codec Codec
	// SampleRateHz of the client's audio.
	SampleRateHz int
}

// Ingest decodes a client's binary frames into Audio on the capture clock.
//
// PCM frames are passed on without copying when they hold whole samples.
// A frame with an odd byte count leaves its last byte as half a sample; that
// byte is carried to the front of the next frame, never dropped. A half
// sample left when the input closes is discarded (it is not a sample).
type Ingest struct {
	cfg Config
}

// New returns an ingest stage for cfg.
func New(cfg Config) *Ingest { return &Ingest{cfg: cfg} }

// Run reads frames from in until it is closed or ctx is done, and sends
// decoded Audio on out, which it closes on return. The frames' backing
// arrays pass to the receiver of out (as Pooled Audio: a frame from
// NewFrame goes back to the free list when the audio is done with): the
// sender of a frame must not reuse it.
func (g *Ingest) Run(ctx context.Context, in <-chan []byte, out chan<- stages.Audio) error {
	defer close(out)
	var (
		next  int64 // capture-clock index of the next sample
		carry []byte
	)
	for {
		frame, ok, err := stages.Recv(ctx, in)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if len(frame) < MinAudioFrameBytes {
			stages.ReleaseFrame(frame)
			continue
		}
		pcm := frame
		if len(carry) == 1 {
			pcm = make([]byte, 0, len(frame)+1)
			pcm = append(pcm, carry[0])
			pcm = append(pcm, frame...)
			carry = carry[:0]
			stages.ReleaseFrame(frame)
		}
		if len(pcm)%2 == 1 {
			carry = append(carry[:0], pcm[len(pcm)-1])
			pcm = pcm[:len(pcm)-1]
		}
		if len(pcm) == 0 {
			stages.ReleaseFrame(pcm)
			continue
		}
		a := stages.Audio{PCM: pcm, Start: next, SampleRateHz: g.cfg.SampleRateHz, Pooled: true}
		next = a.End()
		if err := stages.Send(ctx, out, a); err != nil {
			return err
		}
	}
}
