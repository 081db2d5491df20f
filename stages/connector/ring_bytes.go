package connector

import "earshot/internal/chunks"

// ringBytes is the byte stream behind a replayRing: bytes are appended at
// increasing offsets and trimmed from the front, stored in fixed-size
// chunks of a pool. Offsets are absolute (they never wrap); chunk i of
// chunks holds offsets [base+i·size, base+(i+1)·size).
//
// Not safe for concurrent use.
type ringBytes struct {
	pool    *chunks.Pool
	chunks  [][]byte
	base    int64  // offset of chunks[0]
	end     int64  // offset one past the last byte written
	scratch []byte // read's copy of a run that spans chunks
}

// write appends p and returns the offset of its first byte. It takes the
// chunks p needs from the pool's budget (TryGet), and holds at most share
// chunks (0: any number); when it cannot, it writes nothing and reports
// false.
//
// A run that does not fit in what is left of the last chunk starts a new
// chunk when less than a quarter of a chunk is left and the run fits in
// one, so that runs of typical frame sizes never span chunks (read needs
// no copy) for at most a quarter of a chunk left unused.
func (b *ringBytes) write(p []byte, share int) (int64, bool) {
	size := int64(b.pool.ChunkBytes())
	off := b.end
	if left := b.limit() - off; left > 0 && left < int64(len(p)) && left < size/4 && int64(len(p)) <= size {
		off += left
	}
	need := int((max(0, off+int64(len(p))-b.limit()) + size - 1) / size)
	if share > 0 && len(b.chunks)+need > share {
		return 0, false
	}
	for i := range need {
		c, ok := b.pool.TryGet()
		if !ok {
			for _, c := range b.chunks[len(b.chunks)-i:] {
				b.pool.Put(c)
			}
			clear(b.chunks[len(b.chunks)-i:])
			b.chunks = b.chunks[:len(b.chunks)-i]
			return 0, false
		}
		b.chunks = append(b.chunks, c)
	}
	b.end = off
	for len(p) > 0 {
		at := b.end - b.base
		n := copy(b.chunks[at/size][at%size:], p)
		p = p[n:]
		b.end += int64(n)
	}
	return off, true
}

// limit is the offset one past the last chunk.
func (b *ringBytes) limit() int64 {
	return b.base + int64(len(b.chunks))*int64(b.pool.ChunkBytes())
}

// read returns the n bytes at offset off, which must have been written
// and not trimmed. The result aliases the ring's storage, or a scratch
// copy when the run spans chunks; it is valid until the next call.
func (b *ringBytes) read(off, n int64) []byte {
	size := int64(b.pool.ChunkBytes())
	at := off - b.base
	i, o := at/size, at%size
	if o+n <= size {
		return b.chunks[i][o : o+n : o+n]
	}
	if int64(cap(b.scratch)) < n {
		b.scratch = make([]byte, n)
	}
	out := b.scratch[:n]
	for k := int64(0); k < n; {
		c := b.chunks[(at+k)/size]
		k += int64(copy(out[k:], c[(at+k)%size:]))
	}
	return out
}

// trim gives back the chunks that hold only bytes before offset keep.
func (b *ringBytes) trim(keep int64) {
	size := int64(b.pool.ChunkBytes())
	drop := 0
	for drop < len(b.chunks)-1 && b.base+int64(drop+1)*size <= keep {
		b.pool.Put(b.chunks[drop])
		b.chunks[drop] = nil
		drop++
	}
	if drop > 0 {
		b.chunks = b.chunks[drop:]
		b.base += int64(drop) * size
	}
}

// reset gives back every chunk; offsets continue. The scratch copy is
// kept: runs that spanned chunks will again.
func (b *ringBytes) reset() {
	for i, c := range b.chunks {
		b.pool.Put(c)
		b.chunks[i] = nil
	}
	b.chunks = b.chunks[:0]
	b.base = b.end
}
