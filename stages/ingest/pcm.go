package ingest

import (
	"context"

	"earshot/stages"
)

// runPCM passes raw 16-bit PCM frames on, carrying a trailing half sample
// to the next frame.
func (g *Ingest) runPCM(ctx context.Context, in <-chan []byte, emit func(stages.Audio) error) error {
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
		g.packets.Add(1)
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
		if g.tap != nil {
			g.tap(a)
		}
		g.samples.Store(next)
		if err := emit(a); err != nil {
			return err
		}
	}
}
