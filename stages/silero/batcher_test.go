package silero_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/silero"
)

// detector makes a detector of bt's at rate, failing the test otherwise.
func detector(t *testing.T, bt *silero.Batcher, rate int) stages.SpeechDetector {
	t.Helper()
	d, err := bt.Detectors()(rate)
	td.Require(t).CmpNoError(err)
	return d
}

// TestBatcherEqualsProcess: sessions at both rates calling Speech
// concurrently (some with non-finite samples) get, chunk by chunk, the
// bits Stream.Process gives each alone, in batches of more than one.
func TestBatcherEqualsProcess(t *testing.T) {
	m := model(t)
	fs := loadFixtures(t, m)
	for _, kernel := range silero.Kernels() {
		t.Run(kernel, func(t *testing.T) {
			defer silero.UseKernel(kernel)()
			inputs := streamInputs(rand.New(rand.NewPCG(11, 12)), fs, 16, 24)
			bt := silero.NewBatcher(m, silero.BatchConfig{MaxBatch: 8, MaxWaitMs: 2}, silero.BatchDeps{})
			largest := 0
			silero.SetRunHook(bt, func(chunks int) { largest = max(largest, chunks) })
			got := make([][]float32, len(inputs))
			var wg sync.WaitGroup
			for i, in := range inputs {
				d := detector(t, bt, in.rate)
				wg.Go(func() {
					for _, c := range in.chunks {
						p, err := d.Speech(c)
						td.CmpNoError(t, err)
						got[i] = append(got[i], p)
					}
				})
			}
			wg.Wait()
			bt.Close() // before reading largest: the worker has returned
			for i, in := range inputs {
				s, _ := m.NewStream(in.rate)
				td.Cmp(t, bits(got[i]), bits(probs(s, in.chunks)), "stream %d (%s)", i, in.name)
			}
			td.Cmp(t, largest, td.Between(2, 8), "largest run")
		})
	}
}

// TestBatcherWait: a lone chunk is answered after exactly MaxWaitMs; a
// chunk that joins a batch is answered with it, when the batch's first
// chunk has waited MaxWaitMs; the batch's wait is measured.
func TestBatcherWait(t *testing.T) {
	m := model(t)
	in := chunks(2, 512)
	ref, _ := m.NewStream(16000)
	want := probs(ref, in[:1])[0]
	synctest.Test(t, func(t *testing.T) {
		set := metrics.NewSet()
		bt := silero.NewBatcher(m, silero.BatchConfig{}, silero.BatchDeps{Metrics: set})
		defer bt.Close()
		var runs []int
		silero.SetRunHook(bt, func(chunks int) { runs = append(runs, chunks) })

		start := time.Now()
		p, err := detector(t, bt, 16000).Speech(in[0])
		td.CmpNoError(t, err)
		td.Cmp(t, p, want)
		td.Cmp(t, time.Since(start), silero.DefaultMaxWaitMs*time.Millisecond, "lone chunk")

		start = time.Now()
		var wg sync.WaitGroup
		took := make([]time.Duration, 2)
		for i := range took {
			d := detector(t, bt, 16000)
			wg.Go(func() {
				time.Sleep(time.Duration(i) * time.Millisecond) // fake time
				_, err := d.Speech(in[1])
				td.CmpNoError(t, err)
				took[i] = time.Since(start)
			})
		}
		wg.Wait()
		td.Cmp(t, took, td.ArrayEach(silero.DefaultMaxWaitMs*time.Millisecond), "both with the first's bound")
		td.Cmp(t, runs, []int{1, 2})
		var out bytes.Buffer
		set.WritePrometheus(&out)
		td.Cmp(t, out.String(), td.All(
			td.Contains(fmt.Sprintf("earshot_vad_batch_wait_seconds_sum %g\n", 2*silero.DefaultMaxWaitMs/1000.0)), // two batches
			td.Contains("earshot_vad_batch_chunks_sum 3\n"),
			td.Contains("earshot_vad_chunks_total 3\n"),
			td.Contains("earshot_vad_batch_panics_total 0\n"),
		))
	})
}

// TestBatcherFull: a full batch runs at once, one run per rate; the chunk
// beyond it starts the next batch and waits its bound.
func TestBatcherFull(t *testing.T) {
	m := model(t)
	synctest.Test(t, func(t *testing.T) {
		bt := silero.NewBatcher(m, silero.BatchConfig{MaxBatch: 8, MaxWaitMs: 3}, silero.BatchDeps{})
		defer bt.Close()
		var runs []int
		silero.SetRunHook(bt, func(chunks int) { runs = append(runs, chunks) })
		start := time.Now()
		var wg sync.WaitGroup
		took := make([]time.Duration, 9)
		for i := range took {
			rate := []int{16000, 8000}[i%2]
			d := detector(t, bt, rate)
			wg.Go(func() {
				_, err := d.Speech(make([]float32, d.WindowSamples()))
				td.CmpNoError(t, err)
				took[i] = time.Since(start)
			})
		}
		wg.Wait()
		td.Cmp(t, took, td.Bag(td.Flatten([]time.Duration{
			0, 0, 0, 0, 0, 0, 0, 0, 3 * time.Millisecond,
		})))
		td.Cmp(t, runs, td.Len(3))
		td.Cmp(t, runs[0]+runs[1], 8, "the full batch: two runs, one per rate")
		td.Cmp(t, runs[2], 1)
	})
}

// TestBatcherNoWait: with a negative MaxWaitMs a lone chunk runs at once.
func TestBatcherNoWait(t *testing.T) {
	m := model(t)
	synctest.Test(t, func(t *testing.T) {
		bt := silero.NewBatcher(m, silero.BatchConfig{MaxWaitMs: -1}, silero.BatchDeps{})
		defer bt.Close()
		start := time.Now()
		_, err := detector(t, bt, 8000).Speech(make([]float32, 256))
		td.CmpNoError(t, err)
		td.Cmp(t, time.Since(start), time.Duration(0))
	})
}

// TestBatcherClose: Close fails the waiting chunk at once, and every
// later Speech and detector; Close is idempotent.
func TestBatcherClose(t *testing.T) {
	m := model(t)
	synctest.Test(t, func(t *testing.T) {
		bt := silero.NewBatcher(m, silero.BatchConfig{}, silero.BatchDeps{})
		d := detector(t, bt, 16000)
		start := time.Now()
		errc := make(chan error, 1)
		go func() {
			_, err := d.Speech(make([]float32, 512))
			errc <- err
		}()
		time.Sleep(time.Millisecond)
		bt.Close()
		td.Cmp(t, <-errc, td.ErrorIs(silero.ErrClosed))
		td.Cmp(t, time.Since(start), time.Millisecond, "at Close")
		_, err := d.Speech(make([]float32, 512))
		td.Cmp(t, err, td.ErrorIs(silero.ErrClosed))
		td.Cmp(t, time.Since(start), time.Millisecond, "at once")
		_, err = bt.Detectors()(16000)
		td.Cmp(t, err, td.ErrorIs(silero.ErrClosed))
		bt.Close()
	})
}

// TestBatcherPanic: a panicking run fails every chunk of that run, not
// those of the other rate's run, and the Batcher goes on.
func TestBatcherPanic(t *testing.T) {
	m := model(t)
	in := chunks(1, 512)[0]
	ref, _ := m.NewStream(16000)
	want := ref.Process(in)
	synctest.Test(t, func(t *testing.T) {
		set := metrics.NewSet()
		bt := silero.NewBatcher(m, silero.BatchConfig{MaxBatch: 3}, silero.BatchDeps{Metrics: set})
		defer bt.Close()
		silero.SetRunHook(bt, func(chunks int) {
			if chunks == 2 {
				panic("boom")
			}
		})
		ds := []stages.SpeechDetector{detector(t, bt, 16000), detector(t, bt, 16000), detector(t, bt, 8000)}
		errs := make([]error, len(ds))
		var wg sync.WaitGroup
		for i, d := range ds {
			wg.Go(func() { _, errs[i] = d.Speech(make([]float32, d.WindowSamples())) })
		}
		wg.Wait()
		boom := td.All(td.ErrorIs(silero.ErrBatchPanic), td.Smuggle(error.Error, td.Contains("boom")))
		td.Cmp(t, errs, td.Slice([]error{}, td.ArrayEntries{0: boom, 1: boom, 2: nil}))
		p, err := ds[0].Speech(in) // the hook panicked before the run: state intact
		td.CmpNoError(t, err)
		td.Cmp(t, p, want)
		var out bytes.Buffer
		set.WritePrometheus(&out)
		td.Cmp(t, out.String(), td.Contains("earshot_vad_batch_panics_total 1\n"))
	})
}

// TestBatcherNoAllocations: Speech allocates nothing, with or without a
// wait for the batch.
func TestBatcherNoAllocations(t *testing.T) {
	m := model(t)
	for _, cfg := range []silero.BatchConfig{{MaxBatch: 1}, {MaxBatch: 2, MaxWaitMs: 1}} {
		bt := silero.NewBatcher(m, cfg, silero.BatchDeps{Metrics: metrics.NewSet()})
		d := detector(t, bt, 16000)
		in := make([]float32, 512)
		td.Cmp(t, testing.AllocsPerRun(20, func() { _, _ = d.Speech(in) }), 0.0, "%+v", cfg)
		bt.Close()
	}
}

// TestBatcherDetectors: the detectors' window, and what they refuse.
func TestBatcherDetectors(t *testing.T) {
	m := model(t)
	bt := silero.NewBatcher(m, silero.BatchConfig{MaxWaitMs: -1}, silero.BatchDeps{})
	defer bt.Close()
	for rate, window := range map[int]int{16000: 512, 8000: 256} {
		d := detector(t, bt, rate)
		td.Cmp(t, d.WindowSamples(), window)
		_, err := d.Speech(make([]float32, window+1))
		td.Cmp(t, err, td.ErrorIs(silero.ErrWindow))
	}
	_, err := bt.Detectors()(44100)
	td.Cmp(t, err, td.ErrorIs(silero.ErrSampleRate))
}
