//go:build linux

package chunks

import (
	"fmt"
	"syscall"
)

// allocSlab maps n bytes of anonymous memory outside the Go heap. Like
// the runtime's own allocations, it panics when the system has no memory
// left to map.
func allocSlab(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		panic(fmt.Sprintf("chunks: mapping %d bytes: %v", n, err))
	}
	return b
}

// releasable reports whether chunks of size bytes can give their pages
// back: only whole pages can, and chunks of a multiple of the page size
// are page-aligned in their slab (slabs are).
func releasable(size int) bool { return size%syscall.Getpagesize() == 0 }

// release gives c's pages back to the system; the next touch reads
// zeros. Best effort. c must be releasable.
func release(c []byte) { _ = syscall.Madvise(c, syscall.MADV_DONTNEED) }
