// Package packaging builds the Lambda deployment package: dist/function.zip
// holding one executable, bootstrap, for the provided.al2023 runtime.
//
// The package is reproducible: the same commit, Go toolchain and
// architecture give the same bytes, so its checksum identifies the code
// (and `aws cloudformation package`, which names uploads by content, skips
// an upload that changed nothing). The binary is built without anything
// that varies between builds (paths, build id, VCS stamp, cgo), and the zip
// is written here rather than by the zip tool, whose output depends on file
// times, permissions and its version.
package packaging

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Entry is the name of the one file in the package: the provided.al2023
// runtime runs the executable named bootstrap.
const Entry = "bootstrap"

// Mode is the entry's permission: Lambda runs the file, so it must be
// executable, and it is the same for every build.
const Mode os.FileMode = 0o755

// Modified is the entry's modification time, the same for every build. It
// is the earliest time a zip (MS-DOS) timestamp can hold.
var Modified = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

// Arches are the architectures Lambda runs, by GOARCH.
var Arches = []string{"arm64", "amd64"}

// Package is the main package built into bootstrap.
const Package = "./cmd/migrate-trigger"

// Options says what to build and where.
type Options struct {
	// Arch is the GOARCH: arm64 (Lambda's arm64) or amd64 (x86_64).
	Arch string
	// ModuleDir is the module's root directory, where go build runs.
	ModuleDir string
	// OutDir receives function.zip and function.zip.sha256.
	OutDir string
	// Go is the go command; "" means "go" on the PATH.
	Go string
	// Env is the environment go build starts from; nil means os.Environ().
	// The variables that change the output are overridden (see BuildEnv).
	Env []string
	// Stderr receives go build's messages; nil discards them.
	Stderr io.Writer
	// Bootstrap, when set, also receives the executable that was zipped, so
	// that a caller can run exactly what it would deploy (make bench).
	Bootstrap string
}

// Result describes a built package.
type Result struct {
	Zip          string // path of function.zip
	SHA256       string // hex SHA-256 of function.zip, as in function.zip.sha256
	CodeSHA256   string // base64 SHA-256 of function.zip: Lambda's CodeSha256
	ZipSize      int64
	BinarySize   int64 // size of bootstrap, uncompressed
	GoOS, GoArch string
}

// Build compiles bootstrap for linux/opts.Arch and writes
// opts.OutDir/function.zip and opts.OutDir/function.zip.sha256.
func Build(ctx context.Context, opts Options) (Result, error) {
	if !slices.Contains(Arches, opts.Arch) {
		return Result{}, fmt.Errorf("architecture %q: want one of %s (Lambda's arm64 and x86_64)", opts.Arch, strings.Join(Arches, ", "))
	}
	tmp, err := os.MkdirTemp("", "cognito-migrate-package-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(tmp)

	bin := filepath.Join(tmp, Entry)
	goCmd := opts.Go
	if goCmd == "" {
		goCmd = "go"
	}
	cmd := exec.CommandContext(ctx, goCmd, BuildArgs(bin)...)
	cmd.Dir = opts.ModuleDir
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = BuildEnv(env, opts.Arch)
	cmd.Stdout = opts.Stderr
	cmd.Stderr = opts.Stderr
	if err := cmd.Run(); err != nil {
		return Result{}, fmt.Errorf("go build (linux/%s): %w", opts.Arch, err)
	}
	code, err := os.ReadFile(bin)
	if err != nil {
		return Result{}, err
	}

	var zipped bytes.Buffer
	if err := WriteZip(&zipped, code); err != nil {
		return Result{}, fmt.Errorf("zip: %w", err)
	}
	sum := sha256.Sum256(zipped.Bytes())
	res := Result{
		Zip:        filepath.Join(opts.OutDir, "function.zip"),
		SHA256:     hex.EncodeToString(sum[:]),
		CodeSHA256: base64.StdEncoding.EncodeToString(sum[:]),
		ZipSize:    int64(zipped.Len()),
		BinarySize: int64(len(code)),
		GoOS:       "linux",
		GoArch:     opts.Arch,
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return Result{}, err
	}
	if err := os.WriteFile(res.Zip, zipped.Bytes(), 0o644); err != nil {
		return Result{}, err
	}
	// The format of sha256sum, so `sha256sum -c function.zip.sha256` checks it.
	line := res.SHA256 + "  function.zip\n"
	if err := os.WriteFile(res.Zip+".sha256", []byte(line), 0o644); err != nil {
		return Result{}, err
	}
	if opts.Bootstrap != "" {
		if err := os.WriteFile(opts.Bootstrap, code, Mode); err != nil {
			return Result{}, err
		}
		// WriteFile's mode passes through the umask; the zip's does not.
		if err := os.Chmod(opts.Bootstrap, Mode); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

// BuildArgs are go build's arguments: a static binary with no file paths
// (-trimpath), no build id and no VCS stamp, so that it depends only on the
// source and the toolchain; without debug information and symbols (-s -w),
// which Lambda never reads; and without the net/rpc Lambda transport, which
// provided.al2023 never uses (lambda.norpc).
func BuildArgs(out string) []string {
	return []string{"build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc",
		"-ldflags", "-s -w -buildid=", "-o", out, Package}
}

// BuildEnv is env with every variable that changes the binary set for
// Lambda: linux/arch without cgo, the baseline instruction set of each
// architecture, and no GOFLAGS (a -race or -cover there would change the
// output).
func BuildEnv(env []string, arch string) []string {
	set := map[string]string{
		"GOOS":        "linux",
		"GOARCH":      arch,
		"CGO_ENABLED": "0",
		"GOFLAGS":     "",
		"GOAMD64":     "v1",   // Go's default; every x86_64 Lambda host runs it
		"GOARM64":     "v8.0", // Go's default; Graviton2 and later run it
	}
	out := make([]string, 0, len(env)+len(set))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; !ok {
			out = append(out, kv)
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, k+"="+set[k])
	}
	return out
}

// WriteZip writes a zip archive holding code as the one entry bootstrap,
// with a fixed time, fixed permissions (0755, Unix) and the best deflate
// compression: the same code always gives the same bytes (for one Go
// version: compress/flate's output may change between versions).
func WriteZip(w io.Writer, code []byte) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestCompression)
	})
	fh := &zip.FileHeader{Name: Entry, Method: zip.Deflate, Modified: Modified}
	fh.SetMode(Mode) // also marks the entry as made on Unix, so unzip keeps the mode
	f, err := zw.CreateHeader(fh)
	if err != nil {
		return err
	}
	if _, err := f.Write(code); err != nil {
		return err
	}
	return zw.Close()
}
