package bulk

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

var testHeader = []string{"name", "email", "email_verified", "phone_number", "phone_number_verified", "custom:code", ColumnMFAEnabled, ColumnUsername}

// copyShaper is a stand-in for the trigger's rules: every attribute but sub
// is copied and the username kept.
func copyShaper(u migrate.User) (Row, SkipReason) {
	attrs := map[string]string{}
	for k, v := range u.Attributes {
		if k != "sub" {
			attrs[k] = v
		}
	}
	return Row{Username: u.Username, Attributes: attrs}, ""
}

func user(name string, attrs ...string) migrate.User {
	u := migrate.User{Username: name, Enabled: true, Status: migrate.StatusConfirmed,
		Attributes: map[string]string{"sub": "sub-" + name, "email": name + "@example.com", "email_verified": "true"}}
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] == "-" {
			delete(u.Attributes, attrs[i])
			continue
		}
		u.Attributes[attrs[i]] = attrs[i+1]
	}
	return u
}

func newTestExporter(t *testing.T, dir string, mod func(*ExportOptions)) *Exporter {
	t.Helper()
	opts := ExportOptions{Header: testHeader, PoolMFA: MFAOff, Shape: copyShaper}
	if mod != nil {
		mod(&opts)
	}
	e, err := NewExporter(dir, opts)
	if err != nil {
		t.Fatalf("NewExporter: %v", err)
	}
	return e
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func readJSONL[T any](t *testing.T, path string) []T {
	t.Helper()
	var out []T
	for _, l := range readLines(t, path) {
		var v T
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}

func TestExportWritesCognitoDialect(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	e := newTestExporter(t, dir, nil)
	disabled := user("bob", "name", "Bob, Jr.", "phone_number", "+0044123", "phone_number_verified", "TRUE", "custom:code", "007")
	disabled.Enabled = false
	for _, add := range []struct {
		u      migrate.User
		groups []string
	}{
		{user("alice", "name", "Zoë"), []string{"admins", "staff"}},
		{disabled, nil},
	} {
		if err := e.Add(add.u, add.groups); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := e.Commit()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "users-0001.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := "name,email,email_verified,phone_number,phone_number_verified,custom:code,cognito:mfa_enabled,cognito:username\n" +
		"Zoë,alice@example.com,true,,,,false,alice\n" +
		`Bob\, Jr.,bob@example.com,true,+0044123,true,007,false,bob` + "\n"
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("users-0001.csv (-want +got):\n%s", diff)
	}
	if strings.HasPrefix(string(b), "\ufeff") {
		t.Error("CSV starts with a BOM")
	}
	gotMap := readJSONL[ManifestLine](t, filepath.Join(dir, "users-0001.map.jsonl"))
	wantMap := []ManifestLine{
		{Line: 1, Username: "alice", Sub: "sub-alice", Enabled: true, Groups: []string{"admins", "staff"}, NewUsername: "alice"},
		{Line: 2, Username: "bob", Sub: "sub-bob", Enabled: false, Groups: []string{}, NewUsername: "bob"},
	}
	if diff := cmp.Diff(wantMap, gotMap); diff != "" {
		t.Errorf("manifest (-want +got):\n%s", diff)
	}
	wantSum := ExportSummary{Header: testHeader, Listed: 2, Exported: 2, Skipped: map[SkipReason]int{},
		Files: []ExportFile{{CSV: "users-0001.csv", Manifest: "users-0001.map.jsonl", Users: 2, Bytes: int64(len(b))}}}
	if diff := cmp.Diff(wantSum, sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	read, err := ReadExport(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantSum, read); diff != "" {
		t.Errorf("ReadExport (-want +got):\n%s", diff)
	}
}

func TestExportSkipsWithReasons(t *testing.T) {
	dir := t.TempDir()
	inNew := map[string]bool{"migrated": true}
	e := newTestExporter(t, dir, func(o *ExportOptions) {
		o.InNewPool = func(r Row) bool { return inNew[r.Username] }
		shape := o.Shape
		o.Shape = func(u migrate.User) (Row, SkipReason) {
			if u.Username == "declined" {
				return Row{}, SkipReason(migrate.SignInNameNotUsable)
			}
			r, s := shape(u)
			if u.Username == "extra" {
				r.Attributes["locale"] = "fr"
			}
			if u.Username == "spaced" {
				r.Username = "a b"
			}
			return r, s
		}
	})
	status := func(u migrate.User, s string) migrate.User { u.Status = s; return u }
	disabled := user("disabled")
	disabled.Enabled = false
	users := []struct {
		u    migrate.User
		want SkipReason
	}{
		{user("ok"), ""},
		{disabled, ""},
		{status(user("unconf"), migrate.StatusUnconfirmed), SkipUnconfirmed},
		{status(user("fcp"), migrate.StatusForceChangePassword), SkipForceChangePassword},
		{status(user("reset"), migrate.StatusResetRequired), SkipResetRequired},
		{status(user("fed"), "EXTERNAL_PROVIDER"), SkipExternalProvider},
		{status(user("arch"), "ARCHIVED"), SkipUnsupportedStatus},
		{user("unverified", "email_verified", "false"), SkipNoVerifiedContact},
		{user("noemail", "email", "-"), SkipNoVerifiedContact},
		{user("phoneonly", "email", "-", "phone_number", "+15550100", "phone_number_verified", "true"), ""},
		{user("migrated"), SkipAlreadyInNewPool},
		{user("OK"), SkipDuplicateUsername},
		{user("declined"), SkipReason(migrate.SignInNameNotUsable)},
		{user("extra"), SkipAttributeNotInHeader},
		{user("spaced"), SkipInvalidUsername},
		{user("newline", "name", "a\nb"), SkipUnrepresentable},
		{user("slash", "name", `a\b`), SkipUnrepresentable},
		{user("quote", "name", `"x"`), SkipUnrepresentable},
		{user("long", "name", strings.Repeat("é", MaxRowChars)), SkipRowTooLong},
	}
	wantCounts := map[SkipReason]int{}
	var wantSkipped []SkippedUser
	for _, tt := range users {
		if err := e.Add(tt.u, nil); err != nil {
			t.Fatal(err)
		}
		if tt.want != "" {
			wantCounts[tt.want]++
			wantSkipped = append(wantSkipped, SkippedUser{Username: tt.u.Username, Sub: tt.u.Attributes["sub"], Reason: tt.want})
		}
	}
	sum, err := e.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantCounts, sum.Skipped); diff != "" {
		t.Errorf("skipped counts (-want +got):\n%s", diff)
	}
	if sum.Exported != 3 || sum.Listed != len(users) {
		t.Errorf("exported %d of %d listed, want 3 of %d", sum.Exported, sum.Listed, len(users))
	}
	got := readJSONL[SkippedUser](t, filepath.Join(dir, SkippedFile))
	if diff := cmp.Diff(wantSkipped, got, cmpIgnoreDetail); diff != "" {
		t.Errorf("skipped.jsonl (-want +got):\n%s", diff)
	}
	for _, s := range got {
		if s.Reason == SkipUnrepresentable && !strings.Contains(s.Detail, `"name"`) {
			t.Errorf("detail %q does not name the column", s.Detail)
		}
		for _, v := range []string{"a\nb", `a\b`, `"x"`, "éé"} {
			if strings.Contains(s.Detail, v) {
				t.Errorf("detail %q holds the value", s.Detail)
			}
		}
	}
}

var cmpIgnoreDetail = cmp.Transformer("noDetail", func(s SkippedUser) SkippedUser { s.Detail = ""; return s })

func TestExportCaseSensitiveNewPoolKeepsCaseVariants(t *testing.T) {
	e := newTestExporter(t, t.TempDir(), func(o *ExportOptions) { o.CaseSensitive = true })
	for _, n := range []string{"bob", "Bob", "bob"} {
		if err := e.Add(user(n), nil); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := e.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Exported != 2 || sum.Skipped[SkipDuplicateUsername] != 1 {
		t.Errorf("exported %d, duplicates %d; want 2 and 1", sum.Exported, sum.Skipped[SkipDuplicateUsername])
	}
}

func TestExportMFAColumn(t *testing.T) {
	sms := user("sms", "phone_number", "+15550100")
	sms.MFA = []string{"SMS_MFA"}
	totp := user("totp")
	totp.MFA = []string{"SOFTWARE_TOKEN_MFA"}
	smsNoPhone := user("smsnophone")
	smsNoPhone.MFA = []string{"SMS_MFA"}
	tests := []struct {
		pool string
		want map[string]string
	}{
		{MFAOff, map[string]string{"sms": "false", "totp": "false", "smsnophone": "false"}},
		{MFAOn, map[string]string{"sms": "true", "totp": "true", "smsnophone": "true"}},
		{MFAOptional, map[string]string{"sms": "true", "totp": "false", "smsnophone": "false"}},
	}
	for _, tt := range tests {
		t.Run(tt.pool, func(t *testing.T) {
			dir := t.TempDir()
			e := newTestExporter(t, dir, func(o *ExportOptions) { o.PoolMFA = tt.pool })
			for _, u := range []migrate.User{sms, totp, smsNoPhone} {
				if err := e.Add(u, nil); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.Commit(); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, l := range readLines(t, filepath.Join(dir, "users-0001.csv"))[1:] {
				f, err := DecodeLine(l)
				if err != nil {
					t.Fatal(err)
				}
				got[f[7]] = f[6]
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("cognito:mfa_enabled by user (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := NewExporter(t.TempDir(), ExportOptions{Header: testHeader, PoolMFA: "", Shape: copyShaper}); err == nil {
		t.Error("NewExporter accepted an empty MFA configuration")
	}
}

func TestExportSplitsFiles(t *testing.T) {
	header, _ := EncodeHeader(testHeader)
	rowLen := int64(len("u00@example.com,true,,,,false,u00") + 2) // name empty: leading comma, plus newline
	tests := []struct {
		name     string
		maxUsers int
		maxBytes int64
		want     []int
	}{
		{name: "by users", maxUsers: 3, want: []int{3, 3, 3, 1}},
		{name: "by bytes", maxBytes: int64(len(header)) + 1 + 4*rowLen, want: []int{4, 4, 2}},
		{name: "exact fit", maxUsers: 5, want: []int{5, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			e := newTestExporter(t, dir, func(o *ExportOptions) { o.MaxUsersPerFile = tt.maxUsers; o.MaxBytesPerFile = tt.maxBytes })
			for i := range 10 {
				if err := e.Add(user(fmt.Sprintf("u%02d", i)), nil); err != nil {
					t.Fatal(err)
				}
			}
			sum, err := e.Commit()
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			line := 0
			for n, f := range sum.Files {
				got = append(got, f.Users)
				if f.CSV != csvName(n+1) {
					t.Errorf("file %d is %s", n+1, f.CSV)
				}
				fi, err := os.Stat(filepath.Join(dir, f.CSV))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Size() != f.Bytes || (tt.maxBytes > 0 && fi.Size() > tt.maxBytes) {
					t.Errorf("%s: %d bytes, summary says %d, limit %d", f.CSV, fi.Size(), f.Bytes, tt.maxBytes)
				}
				lines := readLines(t, filepath.Join(dir, f.CSV))
				if lines[0] != header || len(lines)-1 != f.Users {
					t.Errorf("%s: header %q and %d rows", f.CSV, lines[0], len(lines)-1)
				}
				for i, m := range readJSONL[ManifestLine](t, filepath.Join(dir, f.Manifest)) {
					if m.Line != i+1 || m.Username != fmt.Sprintf("u%02d", line) {
						t.Errorf("%s line %d: %+v", f.Manifest, i+1, m)
					}
					if !strings.HasSuffix(lines[m.Line], ","+m.NewUsername) {
						t.Errorf("%s: manifest line %d says %q, CSV row is %q", f.Manifest, m.Line, m.NewUsername, lines[m.Line])
					}
					line++
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("users per file (-want +got):\n%s", diff)
			}
		})
	}
}

// A listing that fails half-way leaves nothing that looks like an export.
func TestExportAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	e := newTestExporter(t, dir, func(o *ExportOptions) { o.MaxUsersPerFile = 2 })
	for i := range 5 {
		if err := e.Add(user(fmt.Sprintf("u%d", i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Abort(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, en := range entries {
		t.Errorf("left behind: %s", en.Name())
	}
	if _, err := ReadExport(dir); err == nil {
		t.Error("ReadExport accepted an aborted export")
	}
}

// Before Commit nothing carries a final name, so a crash mid-listing looks
// unfinished too.
func TestExportUnfinishedHasNoFinalNames(t *testing.T) {
	dir := t.TempDir()
	e := newTestExporter(t, dir, func(o *ExportOptions) { o.MaxUsersPerFile = 2 })
	for i := range 5 {
		if err := e.Add(user(fmt.Sprintf("u%d", i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, en := range entries {
		if !strings.HasSuffix(en.Name(), partialSuffix) {
			t.Errorf("%s has a final name before Commit", en.Name())
		}
	}
	if _, err := ReadExport(dir); err == nil {
		t.Error("ReadExport accepted an unfinished export")
	}
	_ = e.Abort()
}

func TestExportRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "users-0001.csv"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := NewExporter(dir, ExportOptions{Header: testHeader, PoolMFA: MFAOff, Shape: copyShaper})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("NewExporter into a used directory: %v", err)
	}
}

func TestExportDryRunWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	e := newTestExporter(t, dir, func(o *ExportOptions) { o.DryRun = true; o.MaxUsersPerFile = 2 })
	for i := range 3 {
		if err := e.Add(user(fmt.Sprintf("u%d", i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := e.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Exported != 3 || len(sum.Files) != 2 {
		t.Errorf("dry run: %d exported in %d files; want 3 in 2", sum.Exported, len(sum.Files))
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run created %s: %v", dir, err)
	}
}

func TestReadExportDetectsChangedFile(t *testing.T) {
	dir := t.TempDir()
	e := newTestExporter(t, dir, nil)
	if err := e.Add(user("a"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Commit(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "users-0001.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("x\n")
	w.Flush()
	f.Close()
	if _, err := ReadExport(dir); err == nil {
		t.Error("ReadExport accepted a changed CSV")
	}
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

func TestExportConcurrentAdds(t *testing.T) {
	dir := t.TempDir()
	e := newTestExporter(t, dir, func(o *ExportOptions) { o.MaxUsersPerFile = 7 })
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 25 {
				if err := e.Add(user(fmt.Sprintf("g%d-u%02d", g, i)), nil); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	sum, err := e.Commit()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range sum.Files {
		for _, m := range readJSONL[ManifestLine](t, filepath.Join(dir, f.Manifest)) {
			seen[m.Username] = true
		}
	}
	if sum.Exported != 100 || len(seen) != 100 {
		t.Errorf("exported %d, manifests name %d users; want 100", sum.Exported, len(seen))
	}
}
