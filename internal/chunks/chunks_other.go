//go:build !linux

package chunks

// allocSlab allocates n bytes on the heap.
func allocSlab(n int) []byte { return make([]byte, n) }

// releasable is false: heap chunks stay for reuse.
func releasable(int) bool { return false }

// release does nothing: heap chunks stay for reuse.
func release([]byte) {}
