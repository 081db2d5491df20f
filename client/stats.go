package client

import (
	"math"
	"slices"
	"time"
)

// Percentiles summarizes latency samples in milliseconds.
type Percentiles struct {
	// Count is the number of samples; the other fields are 0 without any.
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// Summarize computes nearest-rank percentiles: pN is the smallest sample
// that at least N% of the samples do not exceed.
func Summarize(samples []time.Duration) Percentiles {
	if len(samples) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	rank := func(p float64) float64 {
		i := max(int(math.Ceil(p/100*float64(len(s))))-1, 0)
		return ms(s[i])
	}
	return Percentiles{Count: len(s), P50: rank(50), P90: rank(90), P99: rank(99), Max: ms(s[len(s)-1])}
}

// ms is d in milliseconds, rounded to 0.1 ms.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Millisecond)*10) / 10
}
