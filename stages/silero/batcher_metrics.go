package silero

import "github.com/VictoriaMetrics/metrics"

// batchMetrics are a Batcher's metrics.
type batchMetrics struct {
	// chunks is the distribution of batch sizes, in chunks (both networks
	// together).
	chunks *metrics.PrometheusHistogram
	// wait is how long each batch's first chunk waited, from its Speech
	// call to the start of the run.
	wait *metrics.PrometheusHistogram
	// run is the compute time of each batch.
	run *metrics.PrometheusHistogram
	// total counts the chunks computed; panics the batches that panicked.
	total, panics *metrics.Counter
}

// newBatchMetrics registers the metrics in set (panicking on names
// already there), with batch-size buckets up to maxBatch.
func newBatchMetrics(set *metrics.Set, maxBatch int) batchMetrics {
	var sizes []float64
	for b := 1; b < maxBatch; b *= 2 {
		sizes = append(sizes, float64(b))
	}
	sizes = append(sizes, float64(maxBatch))
	return batchMetrics{
		chunks: set.NewPrometheusHistogramExt(`earshot_vad_batch_chunks`, sizes),
		wait: set.NewPrometheusHistogramExt(`earshot_vad_batch_wait_seconds`,
			[]float64{.0005, .001, .002, .003, .004, .005, .0075, .01, .02, .05, .1}),
		run: set.NewPrometheusHistogramExt(`earshot_vad_batch_run_seconds`,
			[]float64{.00005, .0001, .0002, .0005, .001, .002, .005, .01, .02, .05}),
		total:  set.NewCounter(`earshot_vad_chunks_total`),
		panics: set.NewCounter(`earshot_vad_batch_panics_total`),
	}
}
