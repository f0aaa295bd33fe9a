package packaging_test

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/tools/packaging"
)

func TestWriteZipIsDeterministic(t *testing.T) {
	code := bytes.Repeat([]byte("\x7fELF not really "), 1000)
	var a, b bytes.Buffer
	if err := packaging.WriteZip(&a, code); err != nil {
		t.Fatal(err)
	}
	if err := packaging.WriteZip(&b, code); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("WriteZip wrote different bytes for the same code")
	}
	got := readEntry(t, a.Bytes())
	if !bytes.Equal(got, code) {
		t.Errorf("entry holds %d bytes, want the %d written", len(got), len(code))
	}
	r, _ := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	f := r.File[0]
	if !f.Modified.Equal(packaging.Modified) || f.Method != zip.Deflate {
		t.Errorf("entry modified %v, method %d; want %v, deflate", f.Modified, f.Method, packaging.Modified)
	}
}

func TestBuildRefusesOtherArchitectures(t *testing.T) {
	_, err := packaging.Build(t.Context(), packaging.Options{Arch: "386", ModuleDir: t.TempDir(), OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "arm64") {
		t.Errorf("Build(386) error = %v, want one naming the architectures Lambda runs", err)
	}
}

func TestBuildEnvOverridesWhatChangesTheBinary(t *testing.T) {
	env := packaging.BuildEnv([]string{"HOME=/h", "GOOS=windows", "CGO_ENABLED=1", "GOFLAGS=-race", "GOARM64=v9.0", "PATH=/bin"}, "arm64")
	want := []string{"HOME=/h", "PATH=/bin", "CGO_ENABLED=0", "GOAMD64=v1", "GOARCH=arm64", "GOARM64=v8.0", "GOFLAGS=", "GOOS=linux"}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("BuildEnv() (-want +got):\n%s", diff)
	}
}

// TestBuildIsReproducible builds the package twice per architecture, here and
// from a copy of the module at another path, and wants the same bytes. Both
// builds share the build cache (a cold one costs a minute or more per
// architecture); a build with an empty GOCACHE gives the same bytes too, as
// Go's toolchain is itself reproducible.
func TestBuildIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function four times; skipped with -short")
	}
	root := moduleRoot(t)
	copyDir := filepath.Join(t.TempDir(), "elsewhere")
	copyModule(t, root, copyDir)

	for _, arch := range packaging.Arches {
		t.Run(arch, func(t *testing.T) {
			kept := filepath.Join(t.TempDir(), "bootstrap")
			first, err := packaging.Build(t.Context(), packaging.Options{
				Arch: arch, ModuleDir: root, OutDir: t.TempDir(), Stderr: tlog{t}, Bootstrap: kept,
			})
			if err != nil {
				t.Fatal(err)
			}
			second, err := packaging.Build(t.Context(), packaging.Options{
				Arch: arch, ModuleDir: copyDir, OutDir: t.TempDir(), Stderr: tlog{t},
			})
			if err != nil {
				t.Fatal(err)
			}
			if first.SHA256 != second.SHA256 {
				t.Fatalf("two builds of the same source: sha256 %s and %s", first.SHA256, second.SHA256)
			}
			t.Logf("linux/%s: bootstrap %d bytes, function.zip %d bytes, sha256 %s", arch, first.BinarySize, first.ZipSize, first.SHA256)

			sum, err := os.ReadFile(first.Zip + ".sha256")
			if err != nil {
				t.Fatal(err)
			}
			if want := first.SHA256 + "  function.zip\n"; string(sum) != want {
				t.Errorf("function.zip.sha256 = %q, want %q", sum, want)
			}

			zipped, err := os.ReadFile(first.Zip)
			if err != nil {
				t.Fatal(err)
			}
			entry := readEntry(t, zipped)
			checkELF(t, entry, arch)

			// The bootstrap kept for the bench is the one in the zip.
			bin, err := os.ReadFile(kept)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(bin, entry) {
				t.Errorf("Options.Bootstrap holds %d bytes, not the zip's bootstrap (%d bytes)", len(bin), len(entry))
			}
			if st, err := os.Stat(kept); err != nil || st.Mode().Perm() != packaging.Mode {
				t.Errorf("Options.Bootstrap mode = %v, %v; want %v", st.Mode(), err, packaging.Mode)
			}
		})
	}
}

// readEntry checks that z holds exactly one entry, bootstrap, mode 0755,
// and returns its content.
func readEntry(t *testing.T, z []byte) []byte {
	t.Helper()
	r, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range r.File {
		names = append(names, f.Name)
	}
	if len(r.File) != 1 || r.File[0].Name != packaging.Entry {
		t.Fatalf("zip entries %q, want exactly [%q]", names, packaging.Entry)
	}
	f := r.File[0]
	if f.Mode() != packaging.Mode {
		t.Errorf("%s mode %v, want %v", f.Name, f.Mode(), packaging.Mode)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkELF wants a static, stripped linux executable for arch.
func checkELF(t *testing.T, b []byte, arch string) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("bootstrap is not an ELF file: %v", err)
	}
	want := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "amd64": elf.EM_X86_64}[arch]
	if f.Class != elf.ELFCLASS64 || f.Machine != want || f.Type != elf.ET_EXEC {
		t.Errorf("bootstrap is %v %v %v, want ELFCLASS64 %v ET_EXEC", f.Class, f.Machine, f.Type, want)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("bootstrap has an interpreter: it is dynamically linked (cgo?)")
		}
	}
	if f.Section(".symtab") != nil || f.Section(".debug_info") != nil {
		t.Error("bootstrap has symbols or debug information: not built with -ldflags '-s -w'")
	}
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// copyModule copies the module's Go sources and go.mod/go.sum (what go
// build reads) from src to dst.
func copyModule(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if name := d.Name(); rel != "." && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata" || name == "dist") {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !strings.HasSuffix(path, ".go") && rel != "go.mod" && rel != "go.sum" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// tlog sends go build's output to the test log.
type tlog struct{ t *testing.T }

func (w tlog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
