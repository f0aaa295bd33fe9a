// Package docs_test checks that the repository stands alone: nothing in it
// cites a document that is not in it, and every reference to a section of
// cognito-behaviour.md names a section that exists.
package docs_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the module root, from this package's directory.
const root = ".."

// files lists the repository's files (tracked, and new ones not ignored),
// relative to root. Without git (an unpacked module), it walks the tree.
func files(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err == nil {
		var names []string
		for name := range strings.SplitSeq(strings.TrimSuffix(string(out), "\x00"), "\x00") {
			if name != "" {
				names = append(names, name)
			}
		}
		return names
	}
	t.Logf("git ls-files: %v; walking the tree instead", err)
	var names []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "dist") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, path)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// read returns a file's content, or nil for one deleted in the work tree
// (not yet in the index) and for symbolic links (such as a linked
// node_modules directory).
func read(t *testing.T, name string) []byte {
	t.Helper()
	path := filepath.Join(root, name)
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) || err == nil && !fi.Mode().IsRegular() {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The notes the project was researched from are not in the repository: a
// file that cites them sends its reader nowhere. Cite a public source or
// docs/cognito-behaviour.md instead. (The names are split here so that this
// file does not match itself.)
func TestNothingCitesDocumentsOutsideTheRepository(t *testing.T) {
	forbidden := []string{"COGNITO_" + "FACTS", "../" + "shared", "shared " + "notes"}
	for _, name := range files(t) {
		b := read(t, name)
		for _, f := range forbidden {
			if i := bytes.Index(b, []byte(f)); i >= 0 {
				line := 1 + bytes.Count(b[:i], []byte("\n"))
				t.Errorf("%s:%d cites %q, which is not in this repository; cite a public source or a section of docs/cognito-behaviour.md", name, line, f)
			}
		}
	}
}

var (
	sectionHeading = regexp.MustCompile(`(?m)^#{2,4} (\d+(?:\.\d+)*)[. ]`)
	sectionRef     = regexp.MustCompile(`§(\d+(?:\.\d+)*)`)
)

// Every "§N.M" in a file that cites cognito-behaviour.md (and in the page
// itself) names one of the page's numbered sections.
func TestSectionReferencesExist(t *testing.T) {
	page := read(t, "docs/cognito-behaviour.md")
	sections := map[string]bool{}
	for _, m := range sectionHeading.FindAllSubmatch(page, -1) {
		sections[string(m[1])] = true
	}
	if len(sections) < 30 {
		t.Fatalf("docs/cognito-behaviour.md has %d numbered sections, want its sections 1 to 11", len(sections))
	}
	checked := 0
	for _, name := range files(t) {
		b := read(t, name)
		if name != "docs/cognito-behaviour.md" && !bytes.Contains(b, []byte("cognito-behaviour.md")) {
			continue
		}
		checked++
		for _, m := range sectionRef.FindAllSubmatchIndex(b, -1) {
			if ref := string(b[m[2]:m[3]]); !sections[ref] {
				line := 1 + bytes.Count(b[:m[0]], []byte("\n"))
				t.Errorf("%s:%d cites §%s, which docs/cognito-behaviour.md does not have", name, line, ref)
			}
		}
	}
	if checked < 2 {
		t.Errorf("%d files cite docs/cognito-behaviour.md, want the page and the code that relies on it", checked)
	}
}
