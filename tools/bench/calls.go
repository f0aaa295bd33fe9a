package main

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Call is one request a local service (old pool, new pool, STS) received,
// timed by the service on this process's clock.
type Call struct {
	Service string    `json:"service"`
	Op      string    `json:"op"`
	Status  int       `json:"status"` // HTTP status sent; 0 for none
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

// Window is the time one invocation was in flight, seen by its caller.
type Window struct{ Start, End time.Time }

// holds reports whether c started while the invocation was in flight: the
// call belongs to it.
func (w Window) holds(c Call) bool { return !c.Start.Before(w.Start) && !c.Start.After(w.End) }

// Slow is one of the slowest invocations of a run and its calls, to tell
// our delays from the machine's.
type Slow struct {
	Ms    float64    `json:"ms"`
	Calls []SlowCall `json:"calls"`
}

// SlowCall is a call of a Slow invocation, timed from the invocation's start.
type SlowCall struct {
	Call    string  `json:"call"`
	Status  int     `json:"status"`
	StartMs float64 `json:"startMs"`
	Ms      float64 `json:"ms"`
}

// Slowest returns the n longest windows with the calls made in each.
func Slowest(windows []Window, calls []Call, n int) []Slow {
	sorted := slices.Clone(windows)
	slices.SortFunc(sorted, func(a, b Window) int { return cmp.Compare(b.End.Sub(b.Start), a.End.Sub(a.Start)) })
	var out []Slow
	for _, w := range sorted[:min(n, len(sorted))] {
		s := Slow{Ms: ms(w.End.Sub(w.Start))}
		for _, c := range calls {
			if w.holds(c) {
				s.Calls = append(s.Calls, SlowCall{Call: c.Service + " " + c.Op, Status: c.Status,
					StartMs: ms(c.Start.Sub(w.Start)), Ms: ms(c.End.Sub(c.Start))})
			}
		}
		slices.SortFunc(s.Calls, func(a, b SlowCall) int { return cmp.Compare(a.StartMs, b.StartMs) })
		out = append(out, s)
	}
	return out
}

// CriticalPath is how many of calls were waited for one after another: the
// longest chain of calls each starting after the previous one ended. Calls
// that overlap count once. (For intervals, that is the largest set of
// pairwise disjoint ones, which earliest-end-first finds.)
func CriticalPath(calls []Call) int {
	sorted := slices.Clone(calls)
	slices.SortFunc(sorted, func(a, b Call) int { return a.End.Compare(b.End) })
	n := 0
	var last time.Time
	for _, c := range sorted {
		if n == 0 || !c.Start.Before(last) {
			n++
			last = c.End
		}
	}
	return n
}

// CallStats describes the calls made during a set of invocations.
type CallStats struct {
	Invocations int `json:"invocations"`
	// Mean, Min and Max are calls per invocation.
	Mean float64 `json:"mean"`
	Min  int     `json:"min"`
	Max  int     `json:"max"`
	// ByOp is the mean number of calls per invocation, by "service Op".
	ByOp map[string]float64 `json:"byOp"`
	// CriticalPath counts invocations by the number of calls on their
	// critical path.
	CriticalPath map[int]int `json:"criticalPath"`
}

// Attribute gives each invocation the calls that started while it was in
// flight, and summarises them. Invocations must not overlap each other.
func Attribute(windows []Window, calls []Call) CallStats {
	s := CallStats{Invocations: len(windows), ByOp: map[string]float64{}, CriticalPath: map[int]int{}}
	if len(windows) == 0 {
		return s
	}
	sorted := slices.Clone(calls)
	slices.SortFunc(sorted, func(a, b Call) int { return a.Start.Compare(b.Start) })
	total := 0
	for i, w := range windows {
		var in []Call
		for _, c := range sorted {
			if w.holds(c) {
				in = append(in, c)
				s.ByOp[c.Service+" "+c.Op]++
			}
		}
		n := len(in)
		total += n
		if i == 0 || n < s.Min {
			s.Min = n
		}
		s.Max = max(s.Max, n)
		s.CriticalPath[CriticalPath(in)]++
	}
	s.Mean = float64(total) / float64(len(windows))
	for k := range s.ByOp {
		s.ByOp[k] /= float64(len(windows))
	}
	return s
}

// OpsString lists ByOp as "AdminInitiateAuth 1 + AdminGetUser 1".
func (s CallStats) OpsString() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.ByOp)) {
		parts = append(parts, fmt.Sprintf("%s %s", k, trimFloat(s.ByOp[k])))
	}
	return strings.Join(parts, " + ")
}

// CriticalString is the critical-path lengths seen, e.g. "1" or "1 (298), 2 (2)".
func (s CallStats) CriticalString() string {
	keys := slices.Sorted(maps.Keys(s.CriticalPath))
	if len(keys) == 1 {
		return fmt.Sprint(keys[0])
	}
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d (%d×)", k, s.CriticalPath[k]))
	}
	return strings.Join(parts, ", ")
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
