package ingest

import (
	"slices"

	"github.com/zaf/g711"
)

// mulaw decodes G.711 µ-law: one byte a sample, any split, any rate.
type mulaw struct{}

func (mulaw) decode(dst, frame []byte) ([]byte, int, error) {
	dst = slices.Grow(dst, 2*len(frame))
	for _, b := range frame {
		v := g711.DecodeUlawFrame(b)
		dst = append(dst, byte(v), byte(uint16(v)>>8))
	}
	return dst, 0, nil
}

func (mulaw) close() {}
