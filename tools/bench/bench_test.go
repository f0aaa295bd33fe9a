package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/tools/packaging"
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

// testdata/gobench.json is what go test -json printed for a few of the
// benchmarks (two packages, -count 2 in one, a result line split over two
// events, a MB/s column).
func TestReadGoBench(t *testing.T) {
	f, err := os.Open("testdata/gobench.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	text, got, err := readGoBench(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []GoBenchmark{
		{Name: "migrate.BenchmarkAuthenticate/migrated", Runs: 2, NsPerOp: 4988, BytesPerOp: 1553, AllocsPerOp: 16},
		{Name: "migrate.BenchmarkForgotPassword", Runs: 2, NsPerOp: 2891, BytesPerOp: 1232.5, AllocsPerOp: 12},
		{Name: "trigger.BenchmarkDecodeEvent", Runs: 1, NsPerOp: 24046, BytesPerOp: 1801, AllocsPerOp: 43},
		{Name: "trigger.BenchmarkInvoke/declined", Runs: 1, NsPerOp: 27355, BytesPerOp: 4319, AllocsPerOp: 73},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("readGoBench mismatch (-want +got):\n%s", diff)
	}
	// The text is go test's plain output, benchstat's input: whole result
	// lines, no test2json framing.
	for _, s := range []string{
		"pkg: github.com/cognito-migrate/cognito-migrate/internal/trigger\n",
		"BenchmarkForgotPassword-2                \t    2066\t      2938 ns/op\t    1233 B/op\t      12 allocs/op\n",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("text lacks %q:\n%s", s, text)
		}
	}
	for _, s := range []string{"=== RUN", "\nBenchmarkForgotPassword\n"} {
		if strings.Contains(text, s) {
			t.Errorf("text holds test2json framing %q:\n%s", s, text)
		}
	}
}

func TestReadGoBenchReportsAFailedPackage(t *testing.T) {
	events := `{"Action":"output","Package":"example.com/m/internal/x","Output":"BenchmarkA-2 \t 10\t 5 ns/op\n"}
{"Action":"output","Package":"example.com/m/internal/y","Output":"--- FAIL: BenchmarkB\n"}
{"Action":"fail","Package":"example.com/m/internal/y"}
{"Action":"pass","Package":"example.com/m/internal/x"}
`
	_, got, err := readGoBench(strings.NewReader(events))
	if err == nil || !strings.Contains(err.Error(), "internal/y") {
		t.Errorf("readGoBench error = %v, want one naming internal/y", err)
	}
	if len(got) != 1 || got[0].Name != "x.BenchmarkA" || got[0].NsPerOp != 5 {
		t.Errorf("readGoBench = %+v, want x.BenchmarkA at 5 ns/op", got)
	}
	if _, _, err := readGoBench(strings.NewReader("BenchmarkA-2 10 5 ns/op\n")); err == nil {
		t.Error("readGoBench(plain text): no error")
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
		Build: Build{Zip: ZipInfo{Path: "as `make package ARCH=amd64` builds it", Arch: "linux/amd64", Bytes: 9 << 20},
			Dist: &ZipInfo{Path: "dist/function.zip", Arch: "linux/arm64", Bytes: 4 << 20}},
	}
	r.Targets = Judge(r)
	var met []bool
	for _, tg := range r.Targets {
		met = append(met, tg.Met)
	}
	// fake: p50 met, critical path met; slow: p50 missed, critical path
	// missed; cold without role met, with role missed; RSS met; zips:
	// the measured one missed, dist/function.zip met.
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

// runGoBench runs go test -json for real: one package, one iteration each.
func TestRunGoBench(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a package's benchmarks; skipped with -short")
	}
	defer func(p []string) { goBenchPackages = p }(goBenchPackages)
	goBenchPackages = []string{"./internal/migrate"}
	text, got, err := runGoBench(t.Context(), "../..", "1x", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || !strings.HasPrefix(got[0].Name, "migrate.Benchmark") || got[0].Runs != 1 || got[0].NsPerOp <= 0 {
		t.Errorf("runGoBench = %+v, want migrate's benchmarks, one run each", got)
	}
	if !strings.Contains(text, "pkg: github.com/cognito-migrate/cognito-migrate/internal/migrate\n") {
		t.Errorf("text lacks the pkg line:\n%s", text)
	}
}

// zipArch reads the architecture of the bootstrap in a function.zip,
// zipped as make package zips it (here, a bare ELF header).
func TestZipArch(t *testing.T) {
	for machine, want := range map[elf.Machine]string{elf.EM_X86_64: "linux/amd64", elf.EM_AARCH64: "linux/arm64", elf.EM_386: "unknown"} {
		hdr := elf.Header64{Type: uint16(elf.ET_EXEC), Machine: uint16(machine), Version: 1, Ehsize: 64}
		copy(hdr.Ident[:], elf.ELFMAG)
		hdr.Ident[elf.EI_CLASS], hdr.Ident[elf.EI_DATA], hdr.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1
		var code, zipped bytes.Buffer
		if err := binary.Write(&code, binary.LittleEndian, hdr); err != nil {
			t.Fatal(err)
		}
		if err := packaging.WriteZip(&zipped, code.Bytes()); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "function.zip")
		if err := os.WriteFile(path, zipped.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := zipArch(path); err != nil || got != want {
			t.Errorf("zipArch(%v) = %q, %v; want %q", machine, got, err, want)
		}
	}
	if _, err := zipArch(os.Args[0]); err == nil {
		t.Error("zipArch(not a zip): no error")
	}
}
