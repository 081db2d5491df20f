package main

import (
	"math"
	"slices"
)

// latency summarizes latency samples, in milliseconds.
type latency struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	Max  float64 `json:"max_ms"`
	// Over20 counts samples above 20 ms.
	Over20 int `json:"over_20ms"`
}

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of
// sorted samples: the smallest sample with at least p% of the samples at
// or below it. It returns 0 for no samples.
func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// summarize sorts ns (nanoseconds) in place and summarizes it.
func summarize(ns []int64) latency {
	slices.Sort(ns)
	ms := func(v int64) float64 { return math.Round(float64(v)/1e3) / 1e3 }
	l := latency{
		N:    len(ns),
		P50:  ms(percentile(ns, 50)),
		P90:  ms(percentile(ns, 90)),
		P99:  ms(percentile(ns, 99)),
		P999: ms(percentile(ns, 99.9)),
	}
	if len(ns) > 0 {
		l.Max = ms(ns[len(ns)-1])
	}
	i, _ := slices.BinarySearch(ns, 20e6+1)
	l.Over20 = len(ns) - i
	return l
}
