package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSummarize(t *testing.T) {
	var d []time.Duration
	for i := 200; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	got := Summarize(d)
	want := Stats{N: 200, Min: 1, P50: 100, P90: 180, P99: 198, Max: 200, Mean: 100.5}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Summarize(1..200 ms) mismatch (-want +got):\n%s", diff)
	}
	if got := Summarize(nil); got != (Stats{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", got)
	}
	if got := Summarize([]time.Duration{3 * time.Millisecond}); got.P50 != 3 || got.P99 != 3 {
		t.Errorf("Summarize(3 ms) = %+v", got)
	}
}

// at makes a call from start to end, in milliseconds after t0.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(op string, start, end int) Call {
	return Call{Service: "old pool", Op: op, Start: t0.Add(time.Duration(start) * time.Millisecond), End: t0.Add(time.Duration(end) * time.Millisecond)}
}

func TestCriticalPath(t *testing.T) {
	for _, tc := range []struct {
		name  string
		calls []Call
		want  int
	}{
		{"none", nil, 0},
		{"one", []Call{at("A", 0, 25)}, 1},
		{"two sent together", []Call{at("A", 0, 25), at("B", 1, 26)}, 1},
		{"two in sequence", []Call{at("A", 0, 25), at("B", 26, 51)}, 2},
		{"back to back", []Call{at("A", 0, 25), at("B", 25, 50)}, 2},
		{"STS, then two together", []Call{at("STS", 0, 25), at("A", 30, 55), at("B", 31, 56)}, 2},
		{"a long call spanning two short ones in sequence", []Call{at("L", 0, 100), at("A", 10, 20), at("B", 30, 40)}, 2},
		{"out of order", []Call{at("B", 26, 51), at("A", 0, 25), at("C", 60, 70)}, 3},
	} {
		if got := CriticalPath(tc.calls); got != tc.want {
			t.Errorf("CriticalPath(%s) = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestAttribute(t *testing.T) {
	windows := []Window{
		{t0, t0.Add(30 * time.Millisecond)},
		{t0.Add(40 * time.Millisecond), t0.Add(100 * time.Millisecond)},
	}
	calls := []Call{
		at("AdminInitiateAuth", 1, 26), at("AdminGetUser", 2, 27), // first: together
		at("AdminInitiateAuth", 41, 66), at("AdminGetUser", 70, 95), // second: in sequence
		at("AdminGetUser", 35, 36), // between invocations (a floor request): nobody's
	}
	got := Attribute(windows, calls)
	want := CallStats{
		Invocations: 2, Mean: 2, Min: 2, Max: 2,
		ByOp:         map[string]float64{"old pool AdminInitiateAuth": 1, "old pool AdminGetUser": 1},
		CriticalPath: map[int]int{1: 1, 2: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Attribute mismatch (-want +got):\n%s", diff)
	}
	if s := got.CriticalString(); s != "1 (1×), 2 (1×)" {
		t.Errorf("CriticalString = %q", s)
	}
	if s := got.OpsString(); s != "old pool AdminGetUser 1 + old pool AdminInitiateAuth 1" {
		t.Errorf("OpsString = %q", s)
	}
	if got := Attribute(nil, calls); got.Invocations != 0 || got.Mean != 0 {
		t.Errorf("Attribute(no windows) = %+v", got)
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/cognito-migrate/cognito-migrate/internal/trigger
cpu: AMD EPYC
BenchmarkDecodeEvent-2      	   10000	     16175 ns/op	  34.56 MB/s	    1752 B/op	      43 allocs/op
BenchmarkDecodeEvent-2      	   10000	     18000 ns/op	  30.00 MB/s	    1752 B/op	      43 allocs/op
BenchmarkDecodeEvent-2      	   10000	     15000 ns/op	  36.00 MB/s	    1752 B/op	      43 allocs/op
BenchmarkInvoke/migrated-2  	    1460	     86578 ns/op	    5311 B/op	      90 allocs/op
PASS
ok  	github.com/cognito-migrate/cognito-migrate/internal/trigger	1.061s
pkg: github.com/cognito-migrate/cognito-migrate/internal/migrate
BenchmarkAuthenticate/migrated-16 	   25562	      5088 ns/op	    1552 B/op	      16 allocs/op
BenchmarkAuthenticate/migrated-16 	   25562	      5000 ns/op	    1552 B/op	      16 allocs/op
`
	want := []GoBenchmark{
		{Name: "trigger.BenchmarkDecodeEvent", Runs: 3, NsPerOp: 16175, BytesPerOp: 1752, AllocsPerOp: 43},
		{Name: "trigger.BenchmarkInvoke/migrated", Runs: 1, NsPerOp: 86578, BytesPerOp: 5311, AllocsPerOp: 90},
		{Name: "migrate.BenchmarkAuthenticate/migrated", Runs: 2, NsPerOp: 5044, BytesPerOp: 1552, AllocsPerOp: 16},
	}
	if diff := cmp.Diff(want, ParseGoBench(out)); diff != "" {
		t.Errorf("ParseGoBench mismatch (-want +got):\n%s", diff)
	}
}

func TestParseVmHWM(t *testing.T) {
	got, err := parseVmHWM([]byte("Name:\tbootstrap\nVmPeak:\t 1265288 kB\nVmHWM:\t   16588 kB\nVmRSS:\t   16000 kB\n"))
	if err != nil || got != 16588*1024 {
		t.Errorf("parseVmHWM = %d, %v; want %d", got, err, 16588*1024)
	}
	if _, err := parseVmHWM([]byte("Name:\tx\n")); err == nil {
		t.Error("parseVmHWM without VmHWM: no error")
	}
}

func TestReplaceSection(t *testing.T) {
	doc := "# Performance\n\nintro\n\n" + BeginMarker + "\nold table\n" + EndMarker + "\n\n## How to reproduce\n"
	got, err := ReplaceSection(doc, "new table\n\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Performance\n\nintro\n\n" + BeginMarker + "\nnew table\n" + EndMarker + "\n\n## How to reproduce\n"
	if got != want {
		t.Errorf("ReplaceSection =\n%s\nwant\n%s", got, want)
	}
	if _, err := ReplaceSection("# no markers", "x"); err == nil {
		t.Error("ReplaceSection without markers: no error")
	}
}

func TestJudge(t *testing.T) {
	r := &Results{
		Warm: []WarmResult{
			{OldPool: "SDK-level fake", DelayMs: 0, Migration: Stats{P50: 1}, Floor: Stats{P50: 0.2}, OverFloorP50: 0.8},
			{OldPool: "SDK-level fake", DelayMs: 25, Migration: Stats{P50: 27}, Floor: Stats{P50: 25.5}, OverFloorP50: 1.5,
				Calls: CallStats{Invocations: 300, Mean: 2, CriticalPath: map[int]int{1: 298, 2: 2}}},
			{OldPool: "slow", DelayMs: 25, Migration: Stats{P50: 52}, Floor: Stats{P50: 25.5}, OverFloorP50: 26.5,
				Calls: CallStats{Invocations: 300, Mean: 2, CriticalPath: map[int]int{1: 290, 2: 10}}},
		},
		Cold: []ColdResult{
			{DelayMs: 25, Role: false, RoundTrips: 1, Total: Stats{P50: 36}},
			{DelayMs: 25, Role: true, RoundTrips: 2, Total: Stats{P50: 101}},
		},
		PeakRSSBytes: 16 << 20,
		Build: Build{Zip: ZipInfo{Path: "dist/function.zip", Arch: "linux/arm64", Bytes: 9 << 20},
			Lambda: &Package{Arch: "linux/arm64", ZipBytes: 4 << 20}},
	}
	r.Targets = Judge(r)
	var met []bool
	for _, tg := range r.Targets {
		met = append(met, tg.Met)
	}
	// fake: p50 met, critical path met; slow: p50 missed, critical path
	// missed; cold without role met, with role missed; RSS met; zips:
	// dist missed, arm64 met.
	want := []bool{true, true, false, false, true, false, true, false, true}
	if !cmp.Equal(met, want) {
		t.Errorf("Judge met = %v, want %v", met, want)
	}
	md := Markdown(r)
	for _, s := range []string{"| SDK-level fake | 25.0 ms |", "**missed**", "16.0 MiB", "< 100.0 ms"} {
		if !strings.Contains(md, s) {
			t.Errorf("Markdown lacks %q:\n%s", s, md)
		}
	}
}

func TestCPUModel(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7R13 Processor\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7R13 Processor\n"
	if got := cpuModel([]byte(info)); got != "AMD EPYC 7R13 Processor" {
		t.Errorf("cpuModel = %q", got)
	}
}

func TestResultsRoundTrip(t *testing.T) {
	r := &Results{Machine: Machine{CPUs: 2}, Warm: []WarmResult{{OldPool: "SDK-level fake", DelayMs: 25,
		Calls: CallStats{Invocations: 1, CriticalPath: map[int]int{1: 1}, ByOp: map[string]float64{"old pool AdminGetUser": 1}}}}}
	path := t.TempDir() + "/results.json"
	if err := WriteJSON(path, r); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("ReadJSON(WriteJSON(r)) mismatch (-want +got):\n%s", diff)
	}
}
