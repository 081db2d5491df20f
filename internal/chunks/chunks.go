// Package chunks is a process-wide store of fixed-size byte chunks for
// audio that sessions hold for a while (the connector's replay rings).
//
// On Linux the chunks live outside the Go heap, in anonymous memory
// mapped in slabs: a session holding 30 s of audio then costs that audio
// and nothing more, where heap buffers would also raise the garbage
// collector's heap goal (by GOGC, 100%: about twice the audio in resident
// memory). Free chunks are kept for reuse; past a bound the pages of the
// extra ones are given back to the system (madvise), and their addresses
// are kept. Memory is never unmapped, so a chunk used after its release
// reads stale or zeroed bytes, never faults. Elsewhere the chunks are
// ordinary heap buffers.
//
// Chunks hold bytes only: never store Go pointers in them.
package chunks

import (
	"math"
	"sync"
	"sync/atomic"
)

// DefaultChunkBytes is the chunk size of Default: 16 KiB, half a second
// of 16 kHz 16-bit mono audio.
const DefaultChunkBytes = 16 << 10

// DefaultKeepFreeBytes bounds the free chunks Default keeps resident
// for reuse: 1 MiB (64 chunks), ample for the churn of rings that fill
// and drain every second or so; beyond it pages go back to the system.
const DefaultKeepFreeBytes = 1 << 20

// slabChunks is how many chunks are mapped at a time.
const slabChunks = 64

// Pool hands out chunks of one size. It is safe for concurrent use.
type Pool struct {
	size     int
	keepFree int // resident free chunks kept, at most

	mu   sync.Mutex
	hot  [][]byte // free and resident, reused first
	cold [][]byte // free, pages given back

	inUse  atomic.Int64 // chunks handed out and not put back
	mapped atomic.Int64 // chunks ever made

	budget  atomic.Int64 // chunks TryGet may have out at once; 0: no bound
	members atomic.Int64 // holders sharing the budget (Join)
	refused atomic.Int64 // TryGet calls refused by the budget
	evicted atomic.Int64 // bytes holders gave up to the budget (Evicted)
}

// New returns a pool of chunks of chunkBytes (rounded up to an even
// count, at least 2) that keeps at most keepFreeBytes of free chunks
// resident. Only chunks of a multiple of the page size can give pages
// back; with any other size every free chunk stays resident.
func New(chunkBytes, keepFreeBytes int) *Pool {
	chunkBytes = max(2, chunkBytes+chunkBytes%2)
	p := &Pool{size: chunkBytes, keepFree: max(0, keepFreeBytes/chunkBytes)}
	if !releasable(chunkBytes) {
		p.keepFree = math.MaxInt
	}
	return p
}

var (
	defaultOnce sync.Once
	defaultPool *Pool
)

// Default is the process's pool: DefaultChunkBytes chunks, keeping
// DefaultKeepFreeBytes free.
func Default() *Pool {
	defaultOnce.Do(func() { defaultPool = New(DefaultChunkBytes, DefaultKeepFreeBytes) })
	return defaultPool
}

// SetBudget bounds the chunks TryGet hands out at once to budgetBytes
// (rounded down to whole chunks, at least one); 0 or less removes the
// bound. Get is never bounded. Safe at any time.
func (p *Pool) SetBudget(budgetBytes int64) {
	if budgetBytes <= 0 {
		p.budget.Store(0)
		return
	}
	p.budget.Store(max(1, budgetBytes/int64(p.size)))
}

// BudgetBytes is the bound of SetBudget in bytes, 0 if none.
func (p *Pool) BudgetBytes() int64 { return p.budget.Load() * int64(p.size) }

// ChunkBytes is the length of every chunk.
func (p *Pool) ChunkBytes() int { return p.size }

// Get returns a chunk of ChunkBytes bytes, of any content. The caller
// owns it until it passes it to Put.
func (p *Pool) Get() []byte {
	p.inUse.Add(1)
	return p.take()
}

// take hands out a free chunk, mapping a slab when none is left; the
// caller counted it in inUse.
func (p *Pool) take() []byte {
	p.mu.Lock()
	if c, ok := pop(&p.hot); ok {
		p.mu.Unlock()
		return c
	}
	if c, ok := pop(&p.cold); ok {
		p.mu.Unlock()
		return c
	}
	slab := allocSlab(p.size * slabChunks)
	for i := slabChunks - 1; i > 0; i-- {
		p.cold = append(p.cold, slab[i*p.size:(i+1)*p.size:(i+1)*p.size])
	}
	p.mapped.Add(slabChunks)
	p.mu.Unlock()
	return slab[:p.size:p.size]
}

// TryGet is Get within the budget: it reports false, and hands out
// nothing, when the budget's chunks are all out (counted as a refusal).
func (p *Pool) TryGet() ([]byte, bool) {
	if b := p.budget.Load(); b > 0 {
		for {
			n := p.inUse.Load()
			if n >= b {
				p.refused.Add(1)
				return nil, false
			}
			if p.inUse.CompareAndSwap(n, n+1) {
				return p.take(), true
			}
		}
	}
	return p.Get(), true
}

// Join adds a holder to those sharing the budget (see Share); each Join
// is undone by one Leave.
func (p *Pool) Join() { p.members.Add(1) }

// Leave undoes one Join.
func (p *Pool) Leave() { p.members.Add(-1) }

// Share is each holder's fair share of the budget, in chunks: the budget
// divided among the holders that joined (at least one chunk); 0 when
// there is no budget. A holder at or over its share gives up its own
// oldest bytes rather than take another chunk, so that no holder takes
// more than its share while others need theirs.
func (p *Pool) Share() int {
	b := p.budget.Load()
	if b == 0 {
		return 0
	}
	return int(max(1, b/max(1, p.members.Load())))
}

// Evicted records n bytes a holder gave up to the budget (for Stats).
func (p *Pool) Evicted(n int64) { p.evicted.Add(n) }

// pop takes the last chunk of a free list.
func pop(list *[][]byte) ([]byte, bool) {
	n := len(*list)
	if n == 0 {
		return nil, false
	}
	c := (*list)[n-1]
	(*list)[n-1] = nil
	*list = (*list)[:n-1]
	return c, true
}

// Put gives back a chunk from Get; the caller must not touch it after.
// A slice of another length is ignored.
func (p *Pool) Put(c []byte) {
	if cap(c) != p.size {
		return
	}
	c = c[:p.size]
	p.inUse.Add(-1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.hot) < p.keepFree {
		p.hot = append(p.hot, c)
		return
	}
	release(c)
	p.cold = append(p.cold, c)
}

// Stats is a snapshot of a pool's chunk counts.
type Stats struct {
	// InUse is the number of chunks handed out and not put back.
	InUse int64
	// Free is the number of free chunks kept resident for reuse (free
	// chunks beyond them have given their pages back, or were never
	// touched).
	Free int64
	// Mapped is the number of chunks ever made (in use or free).
	Mapped int64
	// ChunkBytes is the size of one chunk.
	ChunkBytes int
	// BudgetChunks is the bound of TryGet (0: none); Members the holders
	// sharing it; Refused the TryGet calls it refused; EvictedBytes what
	// holders gave up to it.
	BudgetChunks, Members, Refused, EvictedBytes int64
}

// Stats reports the pool's counts; safe at any time (it takes the
// pool's lock briefly).
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	free := int64(len(p.hot))
	p.mu.Unlock()
	return Stats{
		InUse: p.inUse.Load(), Free: free, Mapped: p.mapped.Load(), ChunkBytes: p.size,
		BudgetChunks: p.budget.Load(), Members: p.members.Load(),
		Refused: p.refused.Load(), EvictedBytes: p.evicted.Load(),
	}
}
