package main

import (
	"math"
	"slices"
	"time"
)

// Stats summarises a sample of durations, in milliseconds.
type Stats struct {
	N    int     `json:"n"`
	Min  float64 `json:"minMs"`
	P50  float64 `json:"p50Ms"`
	P90  float64 `json:"p90Ms"`
	P99  float64 `json:"p99Ms"`
	Max  float64 `json:"maxMs"`
	Mean float64 `json:"meanMs"`
}

// Summarize returns the sample's statistics. Percentiles are nearest-rank:
// always a value that was measured (p99 of 200 is the 198th smallest).
func Summarize(d []time.Duration) Stats {
	if len(d) == 0 {
		return Stats{}
	}
	ms := make([]float64, len(d))
	var sum float64
	for i, v := range d {
		ms[i] = float64(v) / float64(time.Millisecond)
		sum += ms[i]
	}
	slices.Sort(ms)
	return Stats{
		N:    len(ms),
		Min:  ms[0],
		P50:  rank(ms, 50),
		P90:  rank(ms, 90),
		P99:  rank(ms, 99),
		Max:  ms[len(ms)-1],
		Mean: sum / float64(len(ms)),
	}
}

// rank is the nearest-rank percentile p of sorted.
func rank(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}
