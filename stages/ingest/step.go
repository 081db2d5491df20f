package ingest

import (
	"earshot/stages"
)

// Step is the ingest driven frame by frame on its caller's goroutine:
// the same decoding and capture clock as Run, for a caller that reads the
// frames itself (a single-channel session's reader), so that a frame is
// read, decoded and gated without crossing goroutines. Not safe for
// concurrent use; one Step per Ingest, and Close it when done.
type Step struct {
	g    *Ingest
	dec  decoder // nil: raw PCM, passed on as it is
	emit func(stages.Audio) error

	next        int64  // capture-clock index of the next sample
	carry       []byte // raw PCM: a trailing half sample, for the next frame
	lastSamples int    // decoded: the last packet's samples, for concealment
}

// Start builds the codec's decoder and returns the Step that hands each
// decoded Audio to emit (see RunFunc for emit's contract). It fails with
// a *FormatError when the decoder cannot be built.
func (g *Ingest) Start(emit func(stages.Audio) error) (*Step, error) {
	dec, err := newDecoder(g.cfg.Codec, g.cfg.SampleRateHz, g.cfg.Opus)
	if err != nil {
		return nil, err
	}
	return &Step{g: g, dec: dec, emit: emit, lastSamples: g.info.PacketMs * g.cfg.SampleRateHz / 1000}, nil
}

// Frame decodes one binary frame, whose backing array passes to the Step
// (as with Run's frames), and hands what it holds to emit. Frames shorter
// than MinAudioFrameBytes are dropped. The error is emit's.
func (s *Step) Frame(frame []byte) error {
	if len(frame) < MinAudioFrameBytes {
		stages.ReleaseFrame(frame)
		return nil
	}
	s.g.packets.Add(1)
	var pcm []byte
	if s.dec == nil {
		pcm = s.raw(frame)
	} else {
		pcm = s.decode(frame)
	}
	if len(pcm) == 0 { // e.g. a lone byte of PCM, or the first bytes of an ADTS frame
		stages.ReleaseFrame(pcm)
		return nil
	}
	a := stages.Audio{PCM: pcm, Start: s.next, SampleRateHz: s.g.cfg.SampleRateHz, Pooled: true}
	s.next = a.End()
	if s.g.tap != nil {
		s.g.tap(a)
	}
	s.g.samples.Store(s.next)
	return s.emit(a)
}

// raw passes 16-bit PCM on, carrying a trailing half sample to the next
// frame.
func (s *Step) raw(frame []byte) []byte {
	pcm := frame
	if len(s.carry) == 1 {
		pcm = make([]byte, 0, len(frame)+1)
		pcm = append(pcm, s.carry[0])
		pcm = append(pcm, frame...)
		s.carry = s.carry[:0]
		stages.ReleaseFrame(frame)
	}
	if len(pcm)%2 == 1 {
		s.carry = append(s.carry[:0], pcm[len(pcm)-1])
		pcm = pcm[:len(pcm)-1]
	}
	return pcm
}

// decode decodes one packet into a pooled buffer; a packet the decoder
// refuses is counted and concealed (by the decoder, or with silence as
// long as the last good packet).
func (s *Step) decode(frame []byte) []byte {
	g := s.g
	pcm, concealed, err := s.dec.decode(stages.NewFrame(), frame)
	stages.ReleaseFrame(frame)
	if err != nil {
		g.errs.Add(1)
		g.m.decodeError(g.cfg.Codec)
		if concealed == 0 {
			pcm = appendSilence(pcm, s.lastSamples)
			concealed = s.lastSamples
		}
		g.concealed.Add(int64(concealed))
	} else if n := len(pcm) / 2; n > 0 && g.info.PacketMs > 0 {
		s.lastSamples = n
	}
	return pcm
}

// Close frees the decoder. The Step is not used after.
func (s *Step) Close() {
	if s.dec != nil {
		s.dec.close()
	}
}
