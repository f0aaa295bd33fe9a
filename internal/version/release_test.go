package version_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// release runs `make release` in the module root root for one CLI platform
// (this machine's, so the test can run what it built) and one function
// architecture, into a new directory, and returns the directory.
func release(t *testing.T, root, version string) string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-s", "-C", root, "release",
		"VERSION=" + version,
		"RELEASE_DIR=" + dir,
		"RELEASE_PLATFORMS=" + runtime.GOOS + "/" + runtime.GOARCH,
		"RELEASE_ARCHES=arm64"}
	cmd := exec.CommandContext(t.Context(), "make", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return dir
}

func exe(name string) string {
	if runtime.GOOS == "windows" {
		return name + ".exe"
	}
	return name
}

// copyTracked copies the module's tracked files into a new directory, as a
// second clone would have them, and returns it.
func copyTracked(t *testing.T) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "git", "-C", "../..", "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dst := t.TempDir()
	for name := range strings.SplitSeq(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join("../..", name))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the work tree
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// Two release builds of the same source and VERSION, in two directories as
// two clones would be, give the same files, byte for byte, so the same
// SHA256SUMS; SHA256SUMS lists every file; and the CLI carries VERSION.
func TestReleaseIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping two release builds in -short mode")
	}
	const v = "v0.0.0-reproducible"
	a, b := release(t, "../..", v), release(t, copyTracked(t), v)

	sumsA, err := os.ReadFile(filepath.Join(a, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	sumsB, err := os.ReadFile(filepath.Join(b, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sumsA, sumsB) {
		t.Errorf("SHA256SUMS differ between two release builds:\n%s\n%s", sumsA, sumsB)
	}

	cli := exe("cognito-migrate_" + v + "_" + runtime.GOOS + "_" + runtime.GOARCH)
	want := []string{"SHA256SUMS", cli, "function_arm64.zip"}
	slices.Sort(want)
	entries, err := os.ReadDir(a)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, want) {
		t.Errorf("release files = %q, want %q", got, want)
	}
	var listed []string
	for line := range strings.Lines(string(sumsA)) {
		_, name, ok := strings.Cut(strings.TrimSpace(line), "  ")
		if !ok {
			t.Errorf("SHA256SUMS line %q is not in sha256sum's format", line)
		}
		listed = append(listed, name)
	}
	if wantListed := []string{cli, "function_arm64.zip"}; !slices.Equal(listed, wantListed) {
		t.Errorf("SHA256SUMS lists %q, want %q", listed, wantListed)
	}

	// The release's -ldflags stamp VERSION in: the CLI says it is that version.
	out, err := exec.CommandContext(t.Context(), filepath.Join(a, cli), "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", cli, err)
	}
	if got, want := strings.TrimSpace(string(out)), "cognito-migrate "+v; got != want {
		t.Errorf("%s --version = %q, want %q", cli, got, want)
	}
}

// A VERSION that cannot be part of a file name is refused before building.
func TestReleaseRefusesAnUnsafeVersion(t *testing.T) {
	out, err := exec.CommandContext(t.Context(), "make", "-s", "-C", "../..", "release",
		"VERSION=../x", "RELEASE_DIR="+t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "VERSION='../x'") {
		t.Errorf("make release VERSION=../x = %v, %s; want a refusal naming VERSION", err, out)
	}
}
