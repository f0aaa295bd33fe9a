// Package tools holds the developer tools (make bench, make package); the
// shipped binaries never import them.
package tools

import (
	"os/exec"
	"strings"
	"testing"
)

// The shipped binaries link nothing of tools/ or e2e/ (bench, packager,
// rehearsal).
func TestShippedBinariesDoNotImportTheTools(t *testing.T) {
	const module = "github.com/cognito-migrate/cognito-migrate/"
	out, err := exec.Command("go", "list", "-deps", "../cmd/migrate-trigger", "../cmd/cognito-migrate").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages: %q", len(deps), deps)
	}
	for _, p := range deps {
		if strings.HasPrefix(p, module+"tools/") || strings.HasPrefix(p, module+"e2e/") {
			t.Errorf("a shipped binary imports %s", p)
		}
	}
}
