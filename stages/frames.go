package stages

import "sync"

// Frame buffers: a client's audio frames are read into buffers from a
// process-wide free list, and whichever stage is last to hold a frame's
// audio gives the buffer back (the connector, once its replay ring has
// copied the audio; the gate, for held pre-roll it drops), so that
// steady streaming allocates no audio buffers and the garbage collector
// runs far less often.
//
// Ownership moves with the Audio: a stage that receives an Audio with
// Pooled set owns its buffer until it sends the Audio on or calls
// ReleaseFrame. A stage that keeps part of a frame, or hands the same
// buffer to two places, clears Pooled, and the buffer is left to the
// garbage collector.
//
// The buffers are ordinary heap memory, not chunks of internal/chunks'
// off-heap pool: they cross goroutines on every frame, and on the heap
// the race detector still sees a buffer used after its release.

// FrameBytes is the capacity of a pooled frame buffer: 4 KiB, more than
// a 100 ms frame of 16 kHz 16-bit audio (3,200 bytes). Larger frames get
// buffers of their own, which ReleaseFrame ignores.
const FrameBytes = 4096

// maxFreeFrames bounds the free list: 4 MiB of buffers.
const maxFreeFrames = 1024

var frameFree struct {
	mu   sync.Mutex
	free [][]byte
}

// NewFrame returns an empty buffer of capacity FrameBytes, from the free
// list when it has one. The caller owns it.
func NewFrame() []byte {
	frameFree.mu.Lock()
	if n := len(frameFree.free); n > 0 {
		b := frameFree.free[n-1]
		frameFree.free[n-1] = nil
		frameFree.free = frameFree.free[:n-1]
		frameFree.mu.Unlock()
		return b[:0]
	}
	frameFree.mu.Unlock()
	return make([]byte, 0, FrameBytes)
}

// ReleaseFrame gives b back to the free list; the caller must own it and
// must not touch it after. Buffers whose capacity is not FrameBytes (not
// from NewFrame, grown past it, or a part cut out of one) are ignored.
func ReleaseFrame(b []byte) {
	if cap(b) != FrameBytes {
		return
	}
	frameFree.mu.Lock()
	if len(frameFree.free) < maxFreeFrames {
		frameFree.free = append(frameFree.free, b[:0])
	}
	frameFree.mu.Unlock()
}

// Release gives a's buffer back to the free list if a owns a pooled one
// (Pooled); the caller must not touch a.PCM after.
func (a Audio) Release() {
	if a.Pooled {
		ReleaseFrame(a.PCM)
	}
}
