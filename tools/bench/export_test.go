package main

import (
	"strings"
	"testing"
)

// The export table judges each run against the goal.
func TestExportMarkdown(t *testing.T) {
	got := ExportMarkdown(ExportResults{Command: "cognito-migrate export", Runs: []ExportRun{
		{Users: 10000, Seconds: 6, UsersPerSecond: 1666, Ceiling: 0.925, ListUsersCalls: 168, PeakRSSBytes: 20 << 20},
		{Users: 100000, Seconds: 70, UsersPerSecond: 1428, Ceiling: 0.79, ListUsersCalls: 1700, Throttled: 32, PeakRSSBytes: 24 << 20},
	}})
	for _, want := range []string{"| 10000 | 6.0 s | 1666 | 92.5% (met) | 168 (0) |", "| 100000 | 70.0 s | 1428 | 79.0% (NOT met) | 1700 (32) |"} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}
