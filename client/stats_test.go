package client_test

import (
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/client"
)

func TestSummarize(t *testing.T) {
	td.Cmp(t, client.Summarize(nil), client.Percentiles{})

	var samples []time.Duration
	for i := 100; i >= 1; i-- { // 100 ms .. 1 ms, out of order
		samples = append(samples, time.Duration(i)*time.Millisecond)
	}
	td.Cmp(t, client.Summarize(samples), client.Percentiles{Count: 100, P50: 50, P90: 90, P99: 99, Max: 100})
	td.Cmp(t, samples[0], 100*time.Millisecond, "input left unsorted")

	td.Cmp(t, client.Summarize([]time.Duration{1234567 * time.Nanosecond}),
		client.Percentiles{Count: 1, P50: 1.2, P90: 1.2, P99: 1.2, Max: 1.2})
	td.Cmp(t, client.Summarize([]time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}),
		client.Percentiles{Count: 3, P50: 20, P90: 30, P99: 30, Max: 30})
}
