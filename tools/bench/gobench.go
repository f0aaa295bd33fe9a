package main

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// GoBenchPackages hold the benchmarks of the per-event CPU path.
var GoBenchPackages = []string{"./internal/trigger", "./internal/migrate", "./internal/cognito"}

// GoBenchmark is one Go benchmark: the median of its runs.
type GoBenchmark struct {
	// Name is package.Benchmark[/sub], without the GOMAXPROCS suffix.
	Name        string  `json:"name"`
	Runs        int     `json:"runs"`
	NsPerOp     float64 `json:"nsPerOp"`
	BytesPerOp  float64 `json:"bytesPerOp"`
	AllocsPerOp float64 `json:"allocsPerOp"`
}

// GoBenchArgs are go test's arguments for the benchmarks.
func GoBenchArgs(benchtime string, count int) []string {
	return append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem",
		"-benchtime", benchtime, "-count", strconv.Itoa(count)}, GoBenchPackages...)
}

// RunGoBench runs the benchmarks and returns go test's output (benchstat's
// input) and its medians.
func RunGoBench(ctx context.Context, moduleDir, benchtime string, count int) (string, []GoBenchmark, error) {
	cmd := exec.CommandContext(ctx, "go", GoBenchArgs(benchtime, count)...)
	cmd.Dir = moduleDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), nil, fmt.Errorf("go %s: %w\n%s", strings.Join(GoBenchArgs(benchtime, count), " "), err, out)
	}
	return string(out), ParseGoBench(string(out)), nil
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// ParseGoBench reads go test -bench -benchmem output and returns the median
// of each benchmark's runs, in the order they first appear.
func ParseGoBench(out string) []GoBenchmark {
	type runs struct{ ns, bytes, allocs []float64 }
	byName := map[string]*runs{}
	var order []string
	pkg := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = path.Base(strings.TrimSpace(p))
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := procsSuffix.ReplaceAllString(fields[0], "")
		if pkg != "" {
			name = pkg + "." + name
		}
		r, ok := byName[name]
		if !ok {
			r = &runs{}
			byName[name] = r
			order = append(order, name)
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			switch fields[i+1] {
			case "ns/op":
				r.ns = append(r.ns, v)
			case "B/op":
				r.bytes = append(r.bytes, v)
			case "allocs/op":
				r.allocs = append(r.allocs, v)
			}
		}
	}
	var res []GoBenchmark
	for _, name := range order {
		r := byName[name]
		res = append(res, GoBenchmark{Name: name, Runs: len(r.ns), NsPerOp: median(r.ns),
			BytesPerOp: median(r.bytes), AllocsPerOp: median(r.allocs)})
	}
	return res
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
