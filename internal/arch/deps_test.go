// Package arch_test keeps the dependency rule of the code base: imports
// point inward, cmd → {cli, trigger} → {cognito, lambdaapi, awsconfig} →
// migrate, and nothing shipped depends on a test double or a developer tool.
package arch_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/cognito-migrate/cognito-migrate/"

// testDoubles are the packages that stand in for AWS or start emulators:
// tests, the benchmark and the demo may use them, nothing shipped may.
var testDoubles = []string{
	"internal/cognitotest", "internal/awstest", "internal/metrics/emftest", "internal/cognitolocal",
}

// shipped are the binaries users run.
var shipped = []string{"cmd/migrate-trigger", "cmd/cognito-migrate"}

// pkg is one package of the module, as go list describes it.
type pkg struct {
	ImportPath string
	Imports    []string // direct, non-test imports
	Deps       []string // every package it depends on, non-test
}

// rule is one forbidden import: a package matching from may not import a
// package matching to (prefix matches, relative to the module).
type rule struct {
	from, to string
	why      string
	// transitive checks Deps instead of Imports.
	transitive bool
}

func rules() []rule {
	r := []rule{
		{from: "internal/migrate", to: "", why: "the domain imports nothing of ours"},
		{from: "internal/trigger", to: "internal/cognito", why: "the trigger knows decisions, not adapters"},
		{from: "internal/trigger", to: "internal/awsconfig", why: "the trigger knows decisions, not adapters"},
		{from: "internal/cli", to: "internal/trigger", why: "the CLI reuses the decision, not the Lambda handler"},
		{from: "internal/settings", to: "internal/trigger", why: "settings are plain values"},
		{from: "internal/settings", to: "internal/awsconfig", why: "settings are plain values"},
		{from: "internal/awsconfig", to: "internal/settings", why: "awsconfig takes plain options, so both binaries build clients the same way"},
	}
	// Adapters serve the workflows and the trigger, never the other way.
	for _, adapter := range []string{"internal/cognito", "internal/lambdaapi", "internal/awsconfig", "internal/awserr"} {
		for _, user := range []string{"internal/bulk", "internal/preflight", "internal/cli", "internal/trigger", "internal/settings"} {
			r = append(r, rule{from: adapter, to: user, why: "adapters know AWS, not the workflows that use them"})
		}
	}
	for _, d := range testDoubles {
		r = append(r, rule{from: "internal/", to: d, why: "a test double is for tests"})
		r = append(r, rule{from: "cmd/", to: d, why: "a test double is for tests", transitive: true})
	}
	for _, s := range shipped {
		r = append(r, rule{from: s, to: "tools/", why: "shipped binaries never include developer tools", transitive: true})
		r = append(r, rule{from: s, to: "e2e/", why: "shipped binaries never include developer tools", transitive: true})
	}
	return r
}

// devTools are the developer tools (benchmark, packager, demo): they may
// use test doubles, and nothing shipped may use them.
var devTools = []string{"tools/", "e2e/"}

// exempt packages may use test doubles: the doubles themselves (they may
// build on each other) and the developer tools.
func exempt(from string) bool {
	return slices.ContainsFunc(append(slices.Clone(testDoubles), devTools...), func(d string) bool { return matches(from, d) })
}

func matches(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, strings.TrimSuffix(prefix, "/")+"/") ||
		(strings.HasSuffix(prefix, "/") && strings.HasPrefix(path, prefix))
}

// violations lists every import in pkgs that a rule forbids.
func violations(pkgs []pkg, rules []rule) []string {
	var out []string
	for _, p := range pkgs {
		from, ok := strings.CutPrefix(p.ImportPath, module)
		if !ok || exempt(from) {
			continue
		}
		for _, r := range rules {
			if !matches(from, r.from) {
				continue
			}
			imports := p.Imports
			if r.transitive {
				imports = p.Deps
			}
			for _, imp := range imports {
				to, ours := strings.CutPrefix(imp, module)
				if !ours || to == from {
					continue
				}
				if r.to == "" || matches(to, r.to) {
					out = append(out, fmt.Sprintf("%s imports %s: %s", from, to, r.why))
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestDependenciesPointInward(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Imports,Deps", module+"...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages; the pattern is wrong", len(pkgs))
	}
	for _, v := range violations(pkgs, rules()) {
		t.Error(v)
	}
}

// TestRulesCatchForbiddenImports proves the checker fails on each kind of
// forbidden import, on a made-up graph.
func TestRulesCatchForbiddenImports(t *testing.T) {
	m := func(s string) string { return module + s }
	tests := []struct {
		name string
		pkg  pkg
	}{
		{"migrate imports anything of ours", pkg{ImportPath: m("internal/migrate"), Imports: []string{m("internal/awserr")}}},
		{"trigger imports cognito", pkg{ImportPath: m("internal/trigger"), Imports: []string{m("internal/cognito")}}},
		{"cli imports trigger", pkg{ImportPath: m("internal/cli"), Imports: []string{m("internal/trigger")}}},
		{"settings imports trigger", pkg{ImportPath: m("internal/settings"), Imports: []string{m("internal/trigger")}}},
		{"awsconfig imports settings", pkg{ImportPath: m("internal/awsconfig"), Imports: []string{m("internal/settings")}}},
		{"an adapter imports a workflow", pkg{ImportPath: m("internal/cognito"), Imports: []string{m("internal/bulk")}}},
		{"a product package imports a test double", pkg{ImportPath: m("internal/cognito"), Imports: []string{m("internal/cognitotest")}}},
		{"a binary depends on a test double", pkg{ImportPath: m("cmd/migrate-trigger"), Deps: []string{m("internal/awstest")}}},
		{"a binary depends on a tool", pkg{ImportPath: m("cmd/cognito-migrate"), Deps: []string{m("tools/bench")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v := violations([]pkg{tt.pkg}, rules()); len(v) == 0 {
				t.Errorf("violations(%+v) = none, want one", tt.pkg)
			}
		})
	}
	allowed := []pkg{
		{ImportPath: m("internal/trigger"), Imports: []string{m("internal/migrate"), m("internal/metrics")}},
		{ImportPath: m("internal/cognito"), Imports: []string{m("internal/migrate"), m("internal/awserr")}},
		{ImportPath: m("tools/bench"), Imports: []string{m("internal/cognitotest")}},
		{ImportPath: m("internal/cognitotest"), Imports: []string{m("internal/awstest")}},
	}
	if v := violations(allowed, rules()); len(v) != 0 {
		t.Errorf("violations(allowed) = %v, want none", v)
	}
}
