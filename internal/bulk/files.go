package bulk

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// File names in an export directory.
const (
	ExportSummaryFile = "export.json"
	SkippedFile       = "skipped.jsonl"
	StateFile         = "import-state.json"
	partialSuffix     = ".partial"
)

// csvName and manifestName name the n-th (1-based) file of an export.
func csvName(n int) string      { return fmt.Sprintf("users-%04d.csv", n) }
func manifestName(n int) string { return fmt.Sprintf("users-%04d.map.jsonl", n) }

// writeFileAtomic replaces path with data so that a crash leaves either the
// old file or the new one, never a mix: temp file, fsync, rename, fsync of
// the directory.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".*"+partialSuffix)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// writeJSONAtomic writes v as indented JSON with writeFileAtomic.
func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	// Some file systems cannot sync a directory; the rename is done either way.
	_ = d.Sync()
	return nil
}
