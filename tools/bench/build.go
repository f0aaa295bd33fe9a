package main

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/cognito-migrate/cognito-migrate/tools/packaging"
)

// Build says how the measured function was built and how big it is.
type Build struct {
	// Command is the go build command, with the environment that matters.
	Command string `json:"command"`
	GoOS    string `json:"goos"`
	GoArch  string `json:"goarch"`
	// BinaryBytes is the size of the measured bootstrap.
	BinaryBytes int64 `json:"binaryBytes"`
	// Zip is the function.zip of the measured bootstrap, the bytes
	// `make package ARCH=GoArch` writes.
	Zip ZipInfo `json:"zip"`
	// Dist is dist/function.zip, when `make package` has made one (for
	// the architecture the templates deploy, which may not run here).
	Dist *ZipInfo `json:"dist,omitempty"`
}

// ZipInfo is a function.zip.
type ZipInfo struct {
	Path   string `json:"path"`
	Source string `json:"source"`
	Arch   string `json:"arch"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256,omitempty"`
}

// buildFunction builds the Lambda package for this machine's architecture
// into dir, exactly as `make package` does, and keeps its bootstrap to run:
// the one build every measurement shares.
func buildFunction(ctx context.Context, moduleDir, dir string) (string, Build, error) {
	arch := runtime.GOARCH
	bin := filepath.Join(dir, packaging.Entry)
	res, err := packaging.Build(ctx, packaging.Options{Arch: arch, ModuleDir: moduleDir, OutDir: dir, Bootstrap: bin})
	if err != nil {
		return "", Build{}, err
	}
	b := Build{
		Command:     fmt.Sprintf("GOOS=linux GOARCH=%s CGO_ENABLED=0 go %s", arch, quoteArgs(packaging.BuildArgs(packaging.Entry))),
		GoOS:        res.GoOS,
		GoArch:      res.GoArch,
		BinaryBytes: res.BinarySize,
		Zip: ZipInfo{Path: "as `make package ARCH=" + arch + "` builds it", Arch: "linux/" + arch, Bytes: res.ZipSize, SHA256: res.SHA256,
			Source: "the measured bootstrap, as `make package ARCH=" + arch + "` builds it"},
	}
	dist := filepath.Join(moduleDir, "dist", "function.zip")
	if st, err := os.Stat(dist); err == nil {
		arch, err := zipArch(dist)
		if err != nil {
			return "", b, err
		}
		b.Dist = &ZipInfo{Path: "dist/function.zip", Arch: arch, Bytes: st.Size(),
			Source: "dist/function.zip from `make package`, " + st.ModTime().UTC().Format(time.DateTime) + " UTC"}
	}
	return bin, b, nil
}

// zipArch is the architecture of a function.zip's bootstrap.
func zipArch(path string) (string, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return "", err
	}
	defer zr.Close()
	r, err := zr.Open(packaging.Entry)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	defer r.Close()
	code, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	f, err := elf.NewFile(bytes.NewReader(code))
	if err != nil {
		return "unknown", nil
	}
	switch f.Machine {
	case elf.EM_X86_64:
		return "linux/amd64", nil
	case elf.EM_AARCH64:
		return "linux/arm64", nil
	}
	return "unknown", nil
}

// quoteArgs is args for a shell.
func quoteArgs(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t") || a == "" {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
