package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path"
	"slices"
	"strconv"
	"strings"
)

// goBenchPackages hold the benchmarks of the per-event CPU path.
var goBenchPackages = []string{"./internal/trigger", "./internal/migrate", "./internal/cognito"}

// GoBenchmark is one Go benchmark: the median of its runs.
type GoBenchmark struct {
	// Name is package.Benchmark[/sub], without the GOMAXPROCS suffix.
	Name        string  `json:"name"`
	Runs        int     `json:"runs"`
	NsPerOp     float64 `json:"nsPerOp"`
	BytesPerOp  float64 `json:"bytesPerOp"`
	AllocsPerOp float64 `json:"allocsPerOp"`
}

// goBenchArgs are go test's arguments for the benchmarks, as the report
// shows them (without -json, which only changes how the output travels).
func goBenchArgs(benchtime string, count int) []string {
	return append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem",
		"-benchtime", benchtime, "-count", strconv.Itoa(count)}, goBenchPackages...)
}

// runGoBench runs the benchmarks with go test -json and returns their
// plain output (benchstat's input) and medians.
func runGoBench(ctx context.Context, moduleDir, benchtime string, count int) (string, []GoBenchmark, error) {
	args := goBenchArgs(benchtime, count)
	cmd := exec.CommandContext(ctx, "go", append([]string{"test", "-json"}, args[1:]...)...)
	cmd.Dir = moduleDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()
	text, res, err := readGoBench(bytes.NewReader(out))
	if err == nil && runErr != nil {
		err = fmt.Errorf("%w\n%s", runErr, stderr.Bytes())
	}
	if err != nil {
		return text, res, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, text)
	}
	return text, res, nil
}

// testEvent is the part of a go test -json (test2json) event read here.
type testEvent struct {
	Action  string
	Package string
	Output  string
}

// readGoBench reads go test -json events: the plain output they carry,
// and the median of each benchmark's runs in the order they first appear.
// A package that fails is an error; its output is in the text.
func readGoBench(r io.Reader) (string, []GoBenchmark, error) {
	var text strings.Builder
	pending := map[string]string{} // a package's output since its last newline
	type runs struct{ ns, bytes, allocs []float64 }
	byName := map[string]*runs{}
	var order, failed []string
	dec := json.NewDecoder(r)
	for {
		var e testEvent
		if err := dec.Decode(&e); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return text.String(), nil, fmt.Errorf("reading go test -json: %w", err)
		}
		switch e.Action {
		case "fail": // also after a build failure, whose messages come as build-output
			failed = append(failed, e.Package)
			continue
		case "output", "build-output":
		default:
			continue
		}
		// test2json may split a result line over two events (the name is
		// printed before the benchmark runs).
		lines := strings.SplitAfter(pending[e.Package]+e.Output, "\n")
		pending[e.Package] = lines[len(lines)-1]
		for _, line := range lines[:len(lines)-1] {
			if isFraming(line) {
				continue
			}
			text.WriteString(line)
			name, values, ok := benchResult(line)
			if !ok {
				continue
			}
			name = path.Base(e.Package) + "." + name
			if byName[name] == nil {
				byName[name] = &runs{}
				order = append(order, name)
			}
			b := byName[name]
			b.ns = append(b.ns, values["ns/op"])
			b.bytes = append(b.bytes, values["B/op"])
			b.allocs = append(b.allocs, values["allocs/op"])
		}
	}
	var res []GoBenchmark
	for _, name := range order {
		b := byName[name]
		res = append(res, GoBenchmark{Name: name, Runs: len(b.ns), NsPerOp: median(b.ns),
			BytesPerOp: median(b.bytes), AllocsPerOp: median(b.allocs)})
	}
	if len(failed) > 0 {
		return text.String(), res, fmt.Errorf("failed: %s", strings.Join(failed, ", "))
	}
	return text.String(), res, nil
}

// isFraming is a line that go test prints only for test2json: "=== RUN"
// and the benchmark's bare name. benchstat would take the name for a result.
func isFraming(line string) bool {
	f := strings.Fields(line)
	return strings.HasPrefix(line, "=== ") || len(f) == 1 && strings.HasPrefix(f[0], "Benchmark")
}

// benchResult reads a result line of the Go benchmark format
// (https://go.dev/design/14313-benchmark-format): the name with its
// GOMAXPROCS suffix, the iterations, then value-unit pairs.
func benchResult(line string) (string, map[string]float64, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 || !strings.HasPrefix(f[0], "Benchmark") {
		return "", nil, false
	}
	if _, err := strconv.Atoi(f[1]); err != nil {
		return "", nil, false
	}
	values := map[string]float64{}
	for i := 2; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", nil, false
		}
		values[f[i+1]] = v
	}
	name := f[0]
	if i := strings.LastIndex(name, "-"); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	return name, values, true
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
