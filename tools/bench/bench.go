package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/cognito-migrate/cognito-migrate/internal/cognitolocal"
)

// Options say what to measure.
type Options struct {
	// ModuleDir is the module's root.
	ModuleDir string
	// Users is how many distinct users each warm run migrates (and
	// measures); WarmUp more are migrated first, unmeasured.
	Users, WarmUp int
	// ColdRuns is how many fresh processes each cold-start setting starts.
	ColdRuns int
	// Delays are the injected round-trip delays.
	Delays []time.Duration
	// CognitoLocal: "auto" (when installed), "on" or "off".
	CognitoLocal string
	// GoBench runs the Go benchmarks with BenchTime and BenchCount.
	GoBench    bool
	BenchTime  string
	BenchCount int
	// Env is added to the function's environment.
	Env []string
	// Progress receives a line per step; nil discards.
	Progress io.Writer
	// Only names the scenarios to run (their names in scenarios); empty
	// runs them all. The function is built only when one needs it.
	Only []string
}

// Results is everything measured.
type Results struct {
	Date    time.Time `json:"date"`
	Machine Machine   `json:"machine"`
	Commit  string    `json:"commit,omitempty"`
	// LoadStart and LoadEnd are /proc/loadavg's 1, 5 and 15-minute load
	// averages after the build and at the end.
	LoadStart string `json:"loadAverageStart"`
	LoadEnd   string `json:"loadAverageEnd"`
	Users     int    `json:"users"`
	WarmUp    int    `json:"warmUp"`
	ColdRuns  int    `json:"coldRuns"`

	Build        Build          `json:"build"`
	Status       *StatusResult  `json:"status,omitempty"`
	Export       *ExportResults `json:"export,omitempty"`
	Warm         []WarmResult   `json:"warm"`
	Cold         []ColdResult   `json:"cold"`
	PeakRSSBytes int64          `json:"peakRssBytes"`

	GoBenchCommand string        `json:"goBenchCommand,omitempty"`
	GoBench        []GoBenchmark `json:"goBench,omitempty"`
	// GoBenchOutput is go test's output, benchstat's input.
	GoBenchOutput string `json:"-"`

	Targets []Target `json:"targets"`
	Notes   []string `json:"notes,omitempty"`
	Errors  []string `json:"errors,omitempty"`
}

// Machine is where the measurements ran.
type Machine struct {
	CPUs      int    `json:"nproc"`
	CPUModel  string `json:"cpuModel"`
	GoVersion string `json:"goVersion"`
	Kernel    string `json:"kernel"`
}

// Run builds the function once and runs every scenario with that build.
// An error in one part is recorded in Results.Errors and the other parts
// still run; the error returned is for what stops everything.
func Run(ctx context.Context, opts Options) (*Results, error) {
	r := &Results{Date: time.Now().UTC(), Machine: machine(), Commit: commit(ctx, opts.ModuleDir),
		Users: opts.Users, WarmUp: opts.WarmUp, ColdRuns: opts.ColdRuns}
	began := time.Now()
	say := func(format string, args ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "[%5.1fs] "+format+"\n", append([]any{time.Since(began).Seconds()}, args...)...)
		}
	}

	selected, err := selectScenarios(opts.Only)
	if err != nil {
		return nil, err
	}
	run := &runner{opts: opts, say: say, results: r}
	if slices.ContainsFunc(selected, func(sc scenario) bool { return !sc.noFunction }) {
		dir, err := os.MkdirTemp("", "cognito-migrate-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		say("building the function (linux/%s, as `make package` builds it)", runtime.GOARCH)
		bin, build, err := buildFunction(ctx, opts.ModuleDir, dir)
		if err != nil {
			return nil, err
		}
		r.Build = build
		if build.Dist == nil && runtime.GOARCH != "arm64" {
			r.Notes = append(r.Notes, "no dist/function.zip: `make package` builds the linux/arm64 package the templates deploy, "+
				"and the next `make bench` reports its size.")
		}
		own := NewEndpoint("new pool", NewPoolHandler())
		defer own.Close()
		sts, stopSTS, err := NewSTS()
		if err != nil {
			return nil, err
		}
		defer stopSTS()
		run.h = &Harness{Bootstrap: bin, Env: opts.Env, Own: own, STS: sts, Invoker: NewInvoker(10 * time.Second), Progress: opts.Progress}
	}
	r.LoadStart = loadAverage()
	for _, sc := range selected {
		if err := sc.run(ctx, run); err != nil {
			run.failed(sc.name, err)
		}
	}

	for _, w := range r.Warm {
		r.PeakRSSBytes = max(r.PeakRSSBytes, w.PeakRSSBytes)
	}
	for _, c := range r.Cold {
		r.PeakRSSBytes = max(r.PeakRSSBytes, c.PeakRSSBytes)
	}
	r.LoadEnd = loadAverage()
	r.Targets = Judge(r)
	say("done")
	return r, nil
}

// runner is what every scenario shares: the options, the one build of the
// function (in h), the services it calls, and the results to add to.
type runner struct {
	opts    Options
	h       *Harness
	say     func(format string, args ...any)
	results *Results
}

// failed records that part of a scenario failed; the rest goes on.
func (run *runner) failed(what string, err error) {
	run.say("%s: %v", what, err)
	run.results.Errors = append(run.results.Errors, fmt.Sprintf("%s: %v", what, err))
}

// A scenario measures one thing with the shared build and services and
// adds its results to run.results. To add one: a function here (status.go
// is an example), a field in Results, a table in Markdown and, if it has a
// target, a line in Judge.
type scenario struct {
	name string
	run  func(ctx context.Context, run *runner) error
	// noFunction: the scenario does not run the built function.
	noFunction bool
}

// selectScenarios returns the scenarios named in only (all when empty),
// in their order.
func selectScenarios(only []string) ([]scenario, error) {
	if len(only) == 0 {
		return scenarios, nil
	}
	var out []scenario
	for _, sc := range scenarios {
		if slices.Contains(only, sc.name) {
			out = append(out, sc)
		}
	}
	for _, name := range only {
		if !slices.ContainsFunc(scenarios, func(sc scenario) bool { return sc.name == name }) {
			var names []string
			for _, sc := range scenarios {
				names = append(names, fmt.Sprintf("%q", sc.name))
			}
			return nil, fmt.Errorf("-only: no scenario %q; the scenarios are %s", name, strings.Join(names, ", "))
		}
	}
	return out, nil
}

var scenarios = []scenario{
	{name: "warm, SDK-level fake", run: warmFake},
	{name: "cold start", run: coldStarts},
	{name: "warm, cognito-local", run: warmLocal},
	{name: "go benchmarks", run: goBenchmarks, noFunction: true},
	{name: "status", run: statusScenario, noFunction: true},
	{name: "export", run: exportScenario, noFunction: true},
}

// warmFake measures warm migrations against the SDK-level fake, where our
// cost is the only one besides the delay.
func warmFake(ctx context.Context, run *runner) error {
	fake := NewFakePool()
	defer fake.Close()
	for _, d := range run.opts.Delays {
		run.warm(ctx, fake, d)
	}
	return nil
}

// warmLocal measures warm migrations against cognito-local, a fresh one
// per delay: it keeps its users in a JSON file that each sign-in rewrites,
// so it slows down as it fills.
func warmLocal(ctx context.Context, run *runner) error {
	for _, d := range run.opts.Delays {
		local, note, err := startLocal(ctx, run.opts.CognitoLocal)
		if err != nil || local == nil {
			if note != "" {
				run.results.Notes = append(run.results.Notes, note)
			}
			return err
		}
		run.warm(ctx, local, d)
		local.Close()
	}
	return nil
}

// warm adds the users a warm run needs and runs it.
func (run *runner) warm(ctx context.Context, pool OldPool, d time.Duration) {
	what := fmt.Sprintf("warm, %s, %v delay", pool.Name(), d)
	run.say("%s", what)
	prefix := fmt.Sprintf("warm-%dms", d.Milliseconds())
	warmUp, measured := users(prefix+"-w", run.opts.WarmUp), users(prefix, run.opts.Users)
	if err := pool.AddUsers(ctx, append(warmUp, measured...)); err != nil {
		run.failed(what, err)
		return
	}
	w, err := run.h.Warm(ctx, pool, d, warmUp, measured)
	if err != nil {
		run.failed(what, err)
		return
	}
	run.results.Warm = append(run.results.Warm, w)
}

// coldStarts measures fresh processes against the SDK-level fake, with and
// without an assumed role, at each delay.
func coldStarts(ctx context.Context, run *runner) error {
	fake := NewFakePool()
	defer fake.Close()
	for _, d := range run.opts.Delays {
		for _, role := range []bool{false, true} {
			what := fmt.Sprintf("cold start, %v delay, role %t", d, role)
			run.say("%s", what)
			us := users(fmt.Sprintf("cold-%dms-%t", d.Milliseconds(), role), run.opts.ColdRuns)
			if err := fake.AddUsers(ctx, us); err != nil {
				return err
			}
			c, err := run.h.Cold(ctx, fake, d, role, us)
			if err != nil {
				run.failed(what, err)
				continue
			}
			run.results.Cold = append(run.results.Cold, c)
		}
	}
	return nil
}

// goBenchmarks runs the Go benchmarks of the per-event path.
func goBenchmarks(ctx context.Context, run *runner) error {
	if !run.opts.GoBench {
		return nil
	}
	run.say("go benchmarks")
	r := run.results
	r.GoBenchCommand = "go " + strings.Join(goBenchArgs(run.opts.BenchTime, run.opts.BenchCount), " ")
	var err error
	r.GoBenchOutput, r.GoBench, err = runGoBench(ctx, run.opts.ModuleDir, run.opts.BenchTime, run.opts.BenchCount)
	return err
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// Busy reports whether other work competed for the CPUs: a 1-minute load
// average above the CPU count (the bench itself keeps about one busy).
func (r *Results) Busy() bool {
	for _, l := range []string{r.LoadStart, r.LoadEnd} {
		var one float64
		if _, err := fmt.Sscan(l, &one); err == nil && one > float64(r.Machine.CPUs) {
			return true
		}
	}
	return false
}

// startLocal starts cognito-local as asked: nil with a note when it is
// off, or not installed in "auto".
func startLocal(ctx context.Context, mode string) (*LocalPool, string, error) {
	switch mode {
	case "off":
		return nil, "cognito-local: not measured (-cognito-local off)", nil
	case "auto":
		if _, err := cognitolocal.Bin(); errors.Is(err, cognitolocal.ErrNotInstalled) {
			return nil, "cognito-local: not installed (make tools), not measured", nil
		}
	}
	p, err := NewLocalPool(ctx)
	return p, "", err
}

func machine() Machine {
	// runtime.NumCPU counts the CPUs this process may use, as nproc does;
	// the bench is built by the go command it measures with (go run).
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH, CPUModel: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUModel = cpuModel(b)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel(cpuinfo []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// commit is HEAD's short hash, marked when the work tree has changes.
func commit(ctx context.Context, dir string) string {
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(out))
	status := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no")
	status.Dir = dir
	if out, err := status.Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
		c += " with uncommitted changes"
	}
	return c
}
