package chunks_test

import (
	"os"
	"runtime"
	"sync"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/chunks"
)

func TestGetPutReuses(t *testing.T) {
	p := chunks.New(1001, 1<<20)
	td.Cmp(t, p.ChunkBytes(), 1002, "rounded up to whole samples")
	a := p.Get()
	td.Cmp(t, len(a), 1002)
	td.Cmp(t, cap(a), 1002, "a chunk cannot grow into its neighbour")
	td.Cmp(t, p.Stats(), chunks.Stats{InUse: 1, Mapped: 64, ChunkBytes: 1002})
	a[0] = 42
	p.Put(a[:10]) // any length of the chunk
	b := p.Get()
	td.Cmp(t, &b[0], &a[0], "the free chunk is reused")
	td.Cmp(t, b[0], byte(42), "kept resident as it was")
	p.Put(b)
	p.Put(make([]byte, 5)) // not from this pool: ignored
	td.Cmp(t, p.Stats(), chunks.Stats{InUse: 0, Free: 1, Mapped: 64, ChunkBytes: 1002})
}

func TestSlabsGrowOnDemand(t *testing.T) {
	p := chunks.New(512, 0)
	var got [][]byte
	for range 65 {
		got = append(got, p.Get())
	}
	td.Cmp(t, p.Stats(), chunks.Stats{InUse: 65, Mapped: 128, ChunkBytes: 512})
	seen := map[*byte]bool{}
	for _, c := range got {
		td.Cmp(t, seen[&c[0]], false, "no chunk handed out twice")
		seen[&c[0]] = true
		c[len(c)-1] = 1 // every chunk is writable to its end
	}
	for _, c := range got {
		p.Put(c)
	}
	td.Cmp(t, p.Stats().InUse, int64(0))
}

// TestFreeBeyondTheBoundGivesPagesBack: on Linux a page-sized chunk put
// back beyond the resident bound reads zeros when handed out again (its
// pages went back to the system); within the bound it keeps its bytes.
func TestFreeBeyondTheBoundGivesPagesBack(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pages are given back on Linux only")
	}
	page := os.Getpagesize()
	p := chunks.New(page, page) // one free chunk stays resident
	a, b := p.Get(), p.Get()
	for i := range a {
		a[i], b[i] = 0xAA, 0xBB
	}
	p.Put(a) // resident
	p.Put(b) // beyond the bound
	td.Cmp(t, p.Stats().Free, int64(1), "one kept resident")
	hot := p.Get()
	td.Cmp(t, hot[0], byte(0xAA), "the resident chunk first")
	cold := p.Get()
	td.Cmp(t, &cold[0], &b[0])
	td.Cmp(t, cold[0], byte(0), "its pages were given back")
	td.Cmp(t, cold[page-1], byte(0))
}

func TestConcurrentUse(t *testing.T) {
	p := chunks.New(256, 4096)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				c := p.Get()
				c[0], c[255] = byte(g), byte(i)
				if c[0] != byte(g) || c[255] != byte(i) {
					t.Error("a chunk was shared")
				}
				p.Put(c)
			}
		})
	}
	wg.Wait()
	td.Cmp(t, p.Stats().InUse, int64(0))
	td.Cmp(t, p.Stats().Mapped, td.Between(int64(64), int64(8*64)))
}

func TestDefaultIsOnePool(t *testing.T) {
	td.Cmp(t, chunks.Default(), td.Shallow(chunks.Default()))
	td.Cmp(t, chunks.Default().ChunkBytes(), chunks.DefaultChunkBytes)
}

func TestBudgetBoundsTryGet(t *testing.T) {
	p := chunks.New(512, 0)
	td.Cmp(t, p.Share(), 0, "no budget: no share")
	p.SetBudget(3*512 + 100) // whole chunks only
	td.Cmp(t, p.BudgetBytes(), int64(3*512))
	var got [][]byte
	for range 3 {
		c, ok := p.TryGet()
		td.Cmp(t, ok, true)
		got = append(got, c)
	}
	c, ok := p.TryGet()
	td.Cmp(t, ok, false, "the budget is spent")
	td.CmpNil(t, c)
	extra := p.Get() // Get is never bounded
	td.Cmp(t, p.Stats().InUse, int64(4))
	p.Put(extra)
	p.Put(got[0])
	_, ok = p.TryGet()
	td.Cmp(t, ok, true, "a chunk given back can be taken again")
	td.Cmp(t, p.Stats(), td.SStruct(chunks.Stats{InUse: 3, BudgetChunks: 3, Refused: 1, ChunkBytes: 512}, td.StructFields{
		"Free": td.Ignore(), "Mapped": td.Ignore(),
	}))
	p.SetBudget(0)
	_, ok = p.TryGet()
	td.Cmp(t, ok, true, "no bound any more")
}

func TestShareDividesTheBudget(t *testing.T) {
	p := chunks.New(512, 0)
	p.SetBudget(10 * 512)
	td.Cmp(t, p.Share(), 10, "nobody joined: all of it")
	p.Join()
	p.Join()
	p.Join()
	td.Cmp(t, p.Share(), 3)
	p.Leave()
	td.Cmp(t, p.Share(), 5)
	for range 20 {
		p.Join()
	}
	td.Cmp(t, p.Share(), 1, "never less than one chunk")
	p.Evicted(700)
	td.Cmp(t, p.Stats().EvictedBytes, int64(700))
}

// TestTryGetNeverOverspends: concurrent TryGet calls never hand out more
// than the budget.
func TestTryGetNeverOverspends(t *testing.T) {
	p := chunks.New(512, 0)
	p.SetBudget(50 * 512)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var got int
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if _, ok := p.TryGet(); ok {
					mu.Lock()
					got++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	td.Cmp(t, got, 50)
	td.Cmp(t, p.Stats().Refused, int64(8*20-50))
}
