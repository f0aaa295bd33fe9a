package bulk

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

// Cognito's limits on one import file
// (https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html).
const (
	DefaultMaxUsersPerFile       = 500_000
	DefaultMaxBytesPerFile int64 = 100_000_000 // 100 MB, read as decimal to stay under either reading
)

// ExportOptions configure an Exporter.
type ExportOptions struct {
	// Header is the new pool's GetCSVHeader answer, unchanged. It must hold
	// cognito:username and cognito:mfa_enabled.
	Header []string
	// PoolMFA is the new pool's MfaConfiguration: OFF, ON or OPTIONAL.
	PoolMFA string
	// CaseSensitive is the new pool's UsernameConfiguration.CaseSensitive;
	// when false, new usernames differing only in (ASCII) case are one user.
	CaseSensitive bool
	// Shape turns an old user into their row with the trigger's rules.
	Shape Shaper
	// InNewPool reports whether the new pool already holds the row's user;
	// nil means nobody is there yet.
	InNewPool func(Row) bool
	// AllowStatuses lists the old statuses exported; nil means CONFIRMED only.
	AllowStatuses []string
	// MaxUsersPerFile and MaxBytesPerFile split the files; zero means
	// Cognito's limits.
	MaxUsersPerFile int
	MaxBytesPerFile int64
	// DryRun counts without writing anything.
	DryRun bool
}

// ExportSummary is DIR/export.json, written last: its presence means the
// export finished and every file it lists is complete.
type ExportSummary struct {
	Header []string     `json:"header"`
	Files  []ExportFile `json:"files"`
	// Listed counts the old users given to the exporter; Exported + the sum
	// of Skipped equals it.
	Listed   int                `json:"listed"`
	Exported int                `json:"exported"`
	Skipped  map[SkipReason]int `json:"skipped"`
	DryRun   bool               `json:"dry_run,omitempty"`
}

// ExportFile is one CSV file of an export and its manifest.
type ExportFile struct {
	CSV      string `json:"csv"`
	Manifest string `json:"manifest"`
	Users    int    `json:"users"`
	Bytes    int64  `json:"bytes"`
}

// ManifestLine is one line of a manifest (users-NNNN.map.jsonl): what the CSV
// cannot carry about the user on CSV row Line. Line counts user rows from 1,
// the header not counted (the file's line Line+1), as AWS's own export tool
// numbers them; Cognito's per-line CloudWatch results should be read with
// that in mind.
type ManifestLine struct {
	Line        int      `json:"line"`
	Username    string   `json:"username"`
	Sub         string   `json:"sub"`
	Enabled     bool     `json:"enabled"`
	Groups      []string `json:"groups"`
	NewUsername string   `json:"new_username"`
	// OldPool names the old pool of a merge the user comes from ("1",
	// "2"...); absent with one old pool.
	OldPool string `json:"old_pool,omitempty"`
}

// SkippedUser is one line of DIR/skipped.jsonl.
type SkippedUser struct {
	Username string     `json:"username"`
	Sub      string     `json:"sub"`
	Reason   SkipReason `json:"reason"`
	// Detail is a value-free note, such as the column of an unrepresentable value.
	Detail string `json:"detail,omitempty"`
	// OldPool is as in ManifestLine.
	OldPool string `json:"old_pool,omitempty"`
}

// Exporter streams old users into import CSV files: each user is written (or
// skipped) as it comes and nothing per user is held except an 8-byte hash of
// each exported username, to refuse duplicates. Files are written under
// temporary names; Commit renames them and writes export.json last, so a
// failed listing never leaves an export that looks complete. It is safe for
// concurrent use (e.g. by parallel listing shards).
type Exporter struct {
	mu         sync.Mutex
	dir        string
	opts       ExportOptions
	headerLine string
	columns    map[string]bool

	cur     *openFile
	files   []ExportFile
	skipped *openWriter
	summary ExportSummary

	seed maphash.Seed
	seen map[uint64]struct{}
	line strings.Builder
	done bool
}

type openWriter struct {
	path string // final path; written at path+partialSuffix
	f    *os.File
	w    *bufio.Writer
	enc  *json.Encoder
}

type openFile struct {
	csv, manifest *openWriter
	users         int
	bytes         int64
}

// NewExporter starts an export into dir, which must be empty or absent:
// mixing two exports would import users twice.
func NewExporter(dir string, opts ExportOptions) (*Exporter, error) {
	if opts.Shape == nil {
		return nil, errors.New("export: no Shaper")
	}
	if err := checkPoolMFA(opts.PoolMFA); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	headerLine, err := EncodeHeader(opts.Header)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	e := &Exporter{
		dir: dir, opts: opts, headerLine: headerLine,
		columns: make(map[string]bool, len(opts.Header)),
		seed:    maphash.MakeSeed(),
		seen:    make(map[uint64]struct{}),
		summary: ExportSummary{Header: opts.Header, Skipped: map[SkipReason]int{}, DryRun: opts.DryRun},
	}
	for _, c := range opts.Header {
		if e.columns[c] {
			return nil, fmt.Errorf("export: column %q twice in the header", c)
		}
		e.columns[c] = true
	}
	for _, c := range []string{ColumnUsername, ColumnMFAEnabled} {
		if !e.columns[c] {
			return nil, fmt.Errorf("export: the header has no %q column; pass the new pool's GetCSVHeader answer unchanged", c)
		}
	}
	if e.opts.AllowStatuses == nil {
		e.opts.AllowStatuses = []string{migrate.StatusConfirmed}
	}
	if e.opts.MaxUsersPerFile <= 0 {
		e.opts.MaxUsersPerFile = DefaultMaxUsersPerFile
	}
	if e.opts.MaxBytesPerFile <= 0 {
		e.opts.MaxBytesPerFile = DefaultMaxBytesPerFile
	}
	if e.opts.MaxBytesPerFile <= int64(len(headerLine))+1 {
		return nil, fmt.Errorf("export: %d bytes per file cannot hold the header", e.opts.MaxBytesPerFile)
	}
	if opts.DryRun {
		return e, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if len(entries) > 0 {
		return nil, fmt.Errorf("export: %s is not empty (it holds %s); export into a new directory, so that no user is imported twice", dir, entries[0].Name())
	}
	if e.skipped, err = e.create(SkippedFile); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Exporter) create(name string) (*openWriter, error) {
	path := filepath.Join(e.dir, name)
	f, err := os.OpenFile(path+partialSuffix, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	w := bufio.NewWriterSize(f, 64<<10)
	return &openWriter{path: path, f: f, w: w, enc: json.NewEncoder(w)}, nil
}

// Add exports the old user u, member of groups in the old pool, or skips
// them with a reason. An error is a failure to write: the export is then
// unusable and must be aborted.
func (e *Exporter) Add(u migrate.User, groups []string) error {
	return e.AddFrom("", u, groups)
}

// AddFrom is Add for a user of the old pool named pool in a merge ("1",
// "2"...): their manifest or skipped line says so.
func (e *Exporter) AddFrom(pool string, u migrate.User, groups []string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return errors.New("export: Add after Commit or Abort")
	}
	e.summary.Listed++
	reason, detail, err := e.add(pool, u, groups)
	if err != nil || reason == "" {
		return err
	}
	e.summary.Skipped[reason]++
	if e.skipped == nil {
		return nil
	}
	if err := e.skipped.enc.Encode(SkippedUser{Username: u.Username, Sub: u.Attributes["sub"], Reason: reason, Detail: detail, OldPool: pool}); err != nil {
		return fmt.Errorf("export: write %s: %w", SkippedFile, err)
	}
	return nil
}

func (e *Exporter) add(pool string, u migrate.User, groups []string) (SkipReason, string, error) {
	if u.Groups == nil {
		u.Groups = groups // MIGRATE_ONLY's group conditions read them through the Shaper
	}
	if r := statusSkip(u.Status, e.opts.AllowStatuses); r != "" {
		return r, u.Status, nil
	}
	row, r := e.opts.Shape(u)
	if r != "" {
		return r, "", nil
	}
	if row.Username == "" || strings.ContainsAny(row.Username, " \t") {
		return SkipInvalidUsername, "empty or holds a space or tab", nil
	}
	if !hasVerifiedContact(row.Attributes) {
		return SkipNoVerifiedContact, "", nil
	}
	if e.opts.InNewPool != nil && e.opts.InNewPool(row) {
		return SkipAlreadyInNewPool, "", nil
	}
	for name := range row.Attributes {
		if !e.columns[name] || name == ColumnUsername || name == ColumnMFAEnabled {
			return SkipAttributeNotInHeader, name, nil
		}
	}

	e.line.Reset()
	for i, col := range e.opts.Header {
		var v string
		switch col {
		case ColumnUsername:
			v = row.Username
		case ColumnMFAEnabled:
			v = mfaValue(e.opts.PoolMFA, u, row)
		default:
			v = row.Attributes[col]
		}
		enc, err := EncodeValue(col, v)
		if err != nil {
			var ve *ValueError
			errors.As(err, &ve)
			return SkipUnrepresentable, ve.Error(), nil
		}
		if i > 0 {
			e.line.WriteByte(',')
		}
		e.line.WriteString(enc)
	}
	line := e.line.String()
	size := int64(len(line)) + 1
	if utf8.RuneCountInString(line) > MaxRowChars || int64(len(e.headerLine))+1+size > e.opts.MaxBytesPerFile {
		return SkipRowTooLong, "", nil
	}

	key := maphash.String(e.seed, usernameKey(row.Username, e.opts.CaseSensitive))
	if _, dup := e.seen[key]; dup {
		return SkipDuplicateUsername, "", nil
	}
	e.seen[key] = struct{}{}

	if err := e.write(line, size, ManifestLine{
		Username: u.Username, Sub: u.Attributes["sub"], Enabled: u.Enabled,
		Groups: groups, NewUsername: row.Username, OldPool: pool,
	}); err != nil {
		return "", "", err
	}
	e.summary.Exported++
	return "", "", nil
}

// write appends one row, starting a new file when the current one is full.
func (e *Exporter) write(line string, size int64, m ManifestLine) error {
	if e.cur != nil && (e.cur.users >= e.opts.MaxUsersPerFile || e.cur.bytes+size > e.opts.MaxBytesPerFile) {
		if err := e.closeFile(); err != nil {
			return err
		}
	}
	if e.cur == nil {
		if err := e.openFile(); err != nil {
			return err
		}
	}
	e.cur.users++
	e.cur.bytes += size
	if e.opts.DryRun {
		return nil
	}
	m.Line = e.cur.users
	if m.Groups == nil {
		m.Groups = []string{}
	}
	if _, err := e.cur.csv.w.WriteString(line); err != nil {
		return fmt.Errorf("export: write %s: %w", e.cur.csv.path, err)
	}
	if err := e.cur.csv.w.WriteByte('\n'); err != nil {
		return fmt.Errorf("export: write %s: %w", e.cur.csv.path, err)
	}
	if err := e.cur.manifest.enc.Encode(m); err != nil {
		return fmt.Errorf("export: write %s: %w", e.cur.manifest.path, err)
	}
	return nil
}

func (e *Exporter) openFile() error {
	n := len(e.files) + 1
	e.cur = &openFile{bytes: int64(len(e.headerLine)) + 1}
	if e.opts.DryRun {
		return nil
	}
	var err error
	if e.cur.csv, err = e.create(csvName(n)); err != nil {
		return err
	}
	if e.cur.manifest, err = e.create(manifestName(n)); err != nil {
		return err
	}
	if _, err := io.WriteString(e.cur.csv.w, e.headerLine+"\n"); err != nil {
		return fmt.Errorf("export: write %s: %w", e.cur.csv.path, err)
	}
	return nil
}

// closeFile finishes the current file: flushed and synced, still under its
// temporary name.
func (e *Exporter) closeFile() error {
	n := len(e.files) + 1
	e.files = append(e.files, ExportFile{CSV: csvName(n), Manifest: manifestName(n), Users: e.cur.users, Bytes: e.cur.bytes})
	cur := e.cur
	e.cur = nil
	if e.opts.DryRun {
		return nil
	}
	if err := cur.csv.finish(); err != nil {
		return err
	}
	return cur.manifest.finish()
}

func (w *openWriter) finish() error {
	if w.f == nil {
		return nil
	}
	err := w.w.Flush()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	if err != nil {
		return fmt.Errorf("export: write %s: %w", w.path, err)
	}
	return nil
}

// Commit finishes the export: every file is renamed to its final name, then
// export.json is written. Only then does the directory look complete.
func (e *Exporter) Commit() (ExportSummary, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return ExportSummary{}, errors.New("export: Commit after Commit or Abort")
	}
	e.done = true
	if e.cur != nil {
		if err := e.closeFile(); err != nil {
			return ExportSummary{}, err
		}
	}
	e.summary.Files = append([]ExportFile{}, e.files...)
	if e.opts.DryRun {
		return e.summary, nil
	}
	if err := e.skipped.finish(); err != nil {
		return ExportSummary{}, err
	}
	paths := []string{e.skipped.path}
	for _, f := range e.files {
		paths = append(paths, filepath.Join(e.dir, f.CSV), filepath.Join(e.dir, f.Manifest))
	}
	for _, p := range paths {
		if err := os.Rename(p+partialSuffix, p); err != nil {
			return ExportSummary{}, fmt.Errorf("export: %w", err)
		}
	}
	if err := syncDir(e.dir); err != nil {
		return ExportSummary{}, fmt.Errorf("export: %w", err)
	}
	if err := writeJSONAtomic(filepath.Join(e.dir, ExportSummaryFile), e.summary); err != nil {
		return ExportSummary{}, fmt.Errorf("export: write %s: %w", ExportSummaryFile, err)
	}
	return e.summary, nil
}

// Abort removes what the export wrote. Call it when the listing fails.
func (e *Exporter) Abort() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return nil
	}
	e.done = true
	if e.opts.DryRun {
		return nil
	}
	var errs []error
	ws := []*openWriter{e.skipped}
	if e.cur != nil {
		ws = append(ws, e.cur.csv, e.cur.manifest)
	}
	for _, w := range ws {
		if w != nil && w.f != nil {
			w.f.Close()
			w.f = nil
		}
	}
	n := len(e.files)
	if e.cur != nil {
		n++
	}
	names := []string{SkippedFile}
	for i := 1; i <= n; i++ {
		names = append(names, csvName(i), manifestName(i))
	}
	for _, name := range names {
		if err := os.Remove(filepath.Join(e.dir, name+partialSuffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ReadExport reads DIR/export.json and checks that every file it lists is
// there with the size it recorded, so an import never starts from a partial
// or altered export.
func ReadExport(dir string) (ExportSummary, error) {
	var s ExportSummary
	b, err := os.ReadFile(filepath.Join(dir, ExportSummaryFile))
	if errors.Is(err, os.ErrNotExist) {
		return s, fmt.Errorf("%s has no %s: it is not a finished export (run cognito-migrate export --out %s into an empty directory)", dir, ExportSummaryFile, dir)
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", filepath.Join(dir, ExportSummaryFile), err)
	}
	for _, f := range s.Files {
		fi, err := os.Stat(filepath.Join(dir, f.CSV))
		if err != nil {
			return s, fmt.Errorf("export %s: %w", dir, err)
		}
		if fi.Size() != f.Bytes {
			return s, fmt.Errorf("export %s: %s has %d bytes, export.json says %d: the file was changed after the export", dir, f.CSV, fi.Size(), f.Bytes)
		}
		if _, err := os.Stat(filepath.Join(dir, f.Manifest)); err != nil {
			return s, fmt.Errorf("export %s: %w", dir, err)
		}
	}
	return s, nil
}

// ReadManifest calls fn with each line of a manifest, in order, streaming.
func ReadManifest(path string, fn func(ManifestLine) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	for {
		var m ManifestLine
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
}
