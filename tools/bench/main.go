// Command bench measures the built function the way Cognito uses it, on
// this machine (make bench; docs/performance.md): the real bootstrap,
// built once as `make package` builds it, serving the Lambda Invoke API
// against a local old pool with an injected round-trip delay (the
// SDK-level fake, where only our cost is left, and cognito-local). It
// measures warm latency against the bare round trip ("the floor"),
// old-pool calls and how many are waited for in sequence, cold starts with
// and without an assumed role, peak memory and package size, and runs the
// per-event Go benchmarks, the status and export commands' listings on the
// wire fake with ListUsers' quota enforced. It prints the tables, writes the results as JSON
// and go test's benchmark output (benchstat's input), and updates the
// tables in docs/performance.md. Nothing here is asserted by `go test`:
// speed is measured, and judged against the targets in the report.
//
// Run it from the module root. It needs Linux (/proc) and, for the
// cognito-local rows, `make tools`. Everything it starts listens on
// loopback and stops when it ends.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// envFlags collects repeated -env KEY=VALUE.
type envFlags []string

func (e *envFlags) String() string { return strings.Join(*e, " ") }
func (e *envFlags) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("bench", flag.ContinueOnError)
	flags.SetOutput(stderr)
	opts := Options{}
	var env envFlags
	flags.IntVar(&opts.Users, "users", 300, "distinct users migrated and measured per warm run (at least 200)")
	flags.IntVar(&opts.WarmUp, "warmup", 10, "unmeasured migrations before each warm run")
	flags.IntVar(&opts.ColdRuns, "cold-runs", 10, "fresh processes per cold-start setting")
	delays := flags.String("delays", "0,25ms", "injected round-trip delays, comma-separated")
	flags.StringVar(&opts.CognitoLocal, "cognito-local", "auto", "measure against cognito-local too: auto (when installed), on, off")
	flags.BoolVar(&opts.GoBench, "gobench", true, "run the Go benchmarks of the per-event path")
	flags.StringVar(&opts.BenchTime, "benchtime", "200ms", "go test -benchtime for the Go benchmarks")
	flags.IntVar(&opts.BenchCount, "count", 3, "go test -count for the Go benchmarks")
	flags.Var(&env, "env", "KEY=VALUE added to the function's environment (repeatable)")
	out := flags.String("out", "bench/results.json", "write the results as JSON here (\"\" for none)")
	goBenchOut := flags.String("gobench-out", "bench/gobench.txt", "write go test's benchmark output here, for benchstat (\"\" for none)")
	doc := flags.String("doc", "docs/performance.md", "replace the generated table in this document (\"\" for none)")
	timeout := flags.Duration("timeout", 10*time.Minute, "give up after this long")
	render := flags.String("render", "", "measure nothing: print the table of this results file and put it in -doc")
	only := flags.String("only", "", "run only these scenarios, comma-separated (e.g. status); nothing is written unless -out, -gobench-out or -doc is given")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *only != "" {
		// A part of the results must not replace the whole in the docs.
		given := map[string]bool{}
		flags.Visit(func(f *flag.Flag) { given[f.Name] = true })
		for name, p := range map[string]*string{"out": out, "gobench-out": goBenchOut, "doc": doc} {
			if !given[name] {
				*p = ""
			}
		}
		for _, name := range strings.Split(*only, ",") {
			opts.Only = append(opts.Only, strings.TrimSpace(name))
		}
	}
	if opts.Users < 1 || opts.WarmUp < 1 || opts.ColdRuns < 1 {
		fmt.Fprintln(stderr, "bench: -users, -warmup and -cold-runs must be at least 1")
		return 2
	}
	switch opts.CognitoLocal {
	case "auto", "on", "off":
	default:
		fmt.Fprintf(stderr, "bench: -cognito-local %q: want auto, on or off\n", opts.CognitoLocal)
		return 2
	}
	for _, s := range strings.Split(*delays, ",") {
		d, err := parseDelay(strings.TrimSpace(s))
		if err != nil {
			fmt.Fprintf(stderr, "bench: -delays: %v\n", err)
			return 2
		}
		opts.Delays = append(opts.Delays, d)
	}
	if *render != "" {
		return renderOnly(*render, *doc, stdout, stderr)
	}
	if _, err := os.Stat("go.mod"); err != nil {
		fmt.Fprintln(stderr, "bench: run it from the module root (make bench)")
		return 2
	}
	opts.ModuleDir = "."
	opts.Env = env
	opts.Progress = stderr

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := Run(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	table := Markdown(res)
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, table)

	for _, w := range []struct {
		path  string
		write func(string) error
	}{
		{*out, func(p string) error { return WriteJSON(p, res) }},
		{*goBenchOut, func(p string) error {
			if res.GoBenchOutput == "" {
				return nil
			}
			return os.WriteFile(p, []byte(res.GoBenchOutput), 0o644)
		}},
		{*doc, func(p string) error { return UpdateDoc(p, table) }},
	} {
		if w.path == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(w.path), 0o755); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 1
		}
		if err := w.write(w.path); err != nil {
			fmt.Fprintf(stderr, "bench: write %s: %v\n", w.path, err)
			return 1
		}
		fmt.Fprintf(stderr, "wrote %s\n", w.path)
	}
	if len(res.Errors) > 0 {
		fmt.Fprintf(stderr, "bench: %d part(s) failed; see above\n", len(res.Errors))
		return 1
	}
	return 0
}

// renderOnly prints the table of a results file and updates doc with it,
// for when the table's layout changed but the measurements did not.
func renderOnly(results, doc string, stdout, stderr io.Writer) int {
	res, err := ReadJSON(results)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	res.Targets = Judge(res)
	table := Markdown(res)
	fmt.Fprint(stdout, table)
	if doc != "" {
		if err := UpdateDoc(doc, table); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 1
		}
	}
	return 0
}

// parseDelay reads "25ms", "0" or "25" (milliseconds).
func parseDelay(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || fmt.Sprint(n) != s || n < 0 {
		return 0, fmt.Errorf("%q is not a delay (e.g. 25ms)", s)
	}
	return time.Duration(n) * time.Millisecond, nil
}
