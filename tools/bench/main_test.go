package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestParseDelay(t *testing.T) {
	for in, want := range map[string]time.Duration{"0": 0, "25ms": 25 * time.Millisecond, "25": 25 * time.Millisecond, "0.1s": 100 * time.Millisecond} {
		if got, err := parseDelay(in); err != nil || got != want {
			t.Errorf("parseDelay(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "fast", "-5", "25 ms"} {
		if _, err := parseDelay(in); err == nil {
			t.Errorf("parseDelay(%q): no error", in)
		}
	}
}

// Bad flags stop it before anything is built or started.
func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-cognito-local", "maybe"},
		{"-delays", "0,soon"},
		{"-users", "0"},
		{"-env", "NOEQUALS"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("run(%q) = %d, want 2; stderr:\n%s", args, code, stderr.String())
		}
		if stdout.Len() != 0 || !strings.Contains(stderr.String(), "-") {
			t.Errorf("run(%q): stdout %q, stderr %q", args, stdout.String(), stderr.String())
		}
	}
}
