//go:build libcodecs && cgo

package libav

import (
	"slices"

	"earshot/internal/resample"
)

// output brings decoded frames, mono int16 at the stream's rate, to the
// output rate. Its buffers are reused from frame to frame.
type output struct {
	rate    int                 // output rate, Hz
	inRate  int                 // rate of rs's input, 0 when rs is nil
	rs      *resample.Resampler // nil while the stream is at rate
	scratch []int16             // a frame at the stream's rate, when resampling
}

// frame returns where to write the mono samples of a frame of n samples
// (n > 0) at rateHz (> 0): in the capacity of pcm (which it may grow, and
// returns) when no resampling is needed, else in a scratch buffer. Pass
// both to commit once they are written.
func (o *output) frame(pcm []int16, n, rateHz int) (grown, dst []int16) {
	if rateHz == o.rate {
		o.rs, o.inRate = nil, 0
		pcm = slices.Grow(pcm, n)
		return pcm, pcm[len(pcm) : len(pcm)+n]
	}
	if rateHz != o.inRate {
		// A new stream rate: a new filter (the old one's last
		// millisecond of input is dropped).
		o.rs, o.inRate = resample.New(rateHz, o.rate), rateHz
	}
	if cap(o.scratch) < n {
		o.scratch = make([]int16, n)
	}
	return pcm, o.scratch[:n]
}

// commit appends the frame written in dst, as returned by frame with pcm,
// to pcm, resampled if need be, and returns the extended slice.
func (o *output) commit(pcm, dst []int16) []int16 {
	if o.rs == nil {
		return pcm[:len(pcm)+len(dst)]
	}
	return o.rs.Int16(pcm, dst)
}
