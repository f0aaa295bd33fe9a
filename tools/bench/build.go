package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/cognito-migrate/cognito-migrate/tools/internal/packaging"
)

// Build says how the measured function was built and how big it is.
type Build struct {
	// Command is the go build command, with the environment that matters.
	Command string `json:"command"`
	GoOS    string `json:"goos"`
	GoArch  string `json:"goarch"`
	// BinaryBytes is the size of the measured bootstrap.
	BinaryBytes int64 `json:"binaryBytes"`
	// Zip is function.zip: dist/function.zip when `make package` made one,
	// otherwise the measured bootstrap zipped here.
	Zip ZipInfo `json:"zip"`
	// Lambda is the linux/arm64 package (the templates' architecture),
	// built as `make package` builds it.
	Lambda *Package `json:"lambda,omitempty"`
}

// Package is a Lambda package's sizes.
type Package struct {
	Arch        string `json:"arch"`
	BinaryBytes int64  `json:"binaryBytes"`
	ZipBytes    int64  `json:"zipBytes"`
	SHA256      string `json:"sha256"`
}

// ZipInfo is a function.zip.
type ZipInfo struct {
	Path   string `json:"path"`
	Source string `json:"source"`
	Arch   string `json:"arch"`
	Bytes  int64  `json:"bytes"`
}

// BuildFunction builds bootstrap into dir for this machine with the Lambda
// package's flags (packaging.BuildArgs, packaging.BuildEnv), then sizes it
// and function.zip, and builds the linux/arm64 package for its sizes.
func BuildFunction(ctx context.Context, moduleDir, dir string) (string, Build, error) {
	b := Build{GoOS: "linux", GoArch: runtime.GOARCH}
	bin := filepath.Join(dir, packaging.Entry)
	args := packaging.BuildArgs(bin)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleDir
	cmd.Env = packaging.BuildEnv(os.Environ(), runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", b, fmt.Errorf("go build: %w\n%s", err, out)
	}
	b.Command = fmt.Sprintf("GOOS=linux GOARCH=%s CGO_ENABLED=0 go %s", runtime.GOARCH, quoteArgs(args, bin))
	code, err := os.ReadFile(bin)
	if err != nil {
		return "", b, err
	}
	b.BinaryBytes = int64(len(code))

	dist := filepath.Join(moduleDir, "dist", "function.zip")
	if st, err := os.Stat(dist); err == nil {
		arch, err := zipArch(dist)
		if err != nil {
			return "", b, err
		}
		b.Zip = ZipInfo{Path: "dist/function.zip", Arch: arch, Bytes: st.Size(),
			Source: "dist/function.zip from `make package`, " + st.ModTime().UTC().Format(time.DateTime) + " UTC"}
	} else {
		var buf bytes.Buffer
		if err := packaging.WriteZip(&buf, code); err != nil {
			return "", b, err
		}
		b.Zip = ZipInfo{Path: "zipped by the bench", Arch: "linux/" + runtime.GOARCH, Bytes: int64(buf.Len()),
			Source: "the measured bootstrap, zipped by the bench with packaging.WriteZip (no dist/function.zip)"}
	}

	lambda, err := packaging.Build(ctx, packaging.Options{Arch: "arm64", ModuleDir: moduleDir, OutDir: filepath.Join(dir, "arm64")})
	if err != nil {
		return "", b, err
	}
	b.Lambda = &Package{Arch: lambda.GoOS + "/" + lambda.GoArch, BinaryBytes: lambda.BinarySize, ZipBytes: lambda.ZipSize, SHA256: lambda.SHA256}
	return bin, b, nil
}

// zipArch reads the ELF machine of a function.zip's bootstrap.
func zipArch(path string) (string, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return "", err
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name != packaging.Entry {
			continue
		}
		r, err := f.Open()
		if err != nil {
			return "", err
		}
		defer r.Close()
		var hdr [20]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil || string(hdr[:4]) != "\x7fELF" {
			return "unknown", nil
		}
		switch binary.LittleEndian.Uint16(hdr[18:]) {
		case 0x3e:
			return "linux/amd64", nil
		case 0xb7:
			return "linux/arm64", nil
		}
		return "unknown", nil
	}
	return "", fmt.Errorf("%s has no %s", path, packaging.Entry)
}

// quoteArgs is args for a shell, with bin shown as bootstrap.
func quoteArgs(args []string, bin string) string {
	var out []string
	for _, a := range args {
		if a == bin {
			a = packaging.Entry
		}
		if strings.ContainsAny(a, " \t") || a == "" {
			a = "'" + a + "'"
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}
