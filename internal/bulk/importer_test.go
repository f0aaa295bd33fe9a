package bulk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

var errCrash = errors.New("crash")

// fakeUser is a user of fakePool.
type fakeUser struct {
	Enabled bool
	Status  string
	Groups  []string
}

type fakeJob struct {
	name     string
	status   string
	csv      []byte
	describe int // DescribeImportJob calls since the start
	job      Job
}

// fakePool is an in-memory new pool behind ImportAPI. Its CSV import is
// deliberately simple: a row whose username exists is skipped, others are
// created enabled and RESET_REQUIRED.
type fakePool struct {
	mu     sync.Mutex
	users  map[string]*fakeUser
	groups map[string]bool
	jobs   map[string]*fakeJob
	order  []string
	// imports counts, per uploaded CSV content, how many jobs applied it.
	imports map[string]int

	// crashAt makes the crashAt-th call fail: before its effect, or after
	// it when crashAfter (the call worked, the caller never heard).
	calls      int
	crashAt    int
	crashAfter bool
	// throttle makes that many next user calls fail with throttling.
	throttle int
	// failJobs ends every job Failed after applying its CSV.
	failJobs bool
	log      []string
}

func newFakePool() *fakePool {
	return &fakePool{users: map[string]*fakeUser{}, groups: map[string]bool{}, jobs: map[string]*fakeJob{}, imports: map[string]int{}}
}

// step counts a call; it returns errCrash before the effect when this call
// is the one to crash before, and a func to call after the effect.
func (f *fakePool) step(op string) (before error, after func() error) {
	f.calls++
	f.log = append(f.log, op)
	crash := f.calls == f.crashAt
	if crash && !f.crashAfter {
		return errCrash, nil
	}
	return nil, func() error {
		if crash {
			return errCrash
		}
		return nil
	}
}

func (f *fakePool) CreateImportJob(ctx context.Context, name string) (Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	err, after := f.step("CreateImportJob")
	if err != nil {
		return Job{}, err
	}
	id := fmt.Sprintf("import-%d", len(f.jobs)+1)
	f.jobs[id] = &fakeJob{name: name, status: JobCreated}
	f.order = append(f.order, id)
	return f.jobs[id].view(id), after()
}

func (j *fakeJob) view(id string) Job {
	v := j.job
	v.ID, v.Name, v.Status = id, j.name, j.status
	if j.status == JobCreated {
		v.PreSignedURL = "https://upload.invalid/" + id
	}
	return v
}

func (f *fakePool) UploadCSV(ctx context.Context, url string, body io.Reader, size int64) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if int64(len(b)) != size {
		return fmt.Errorf("upload: %d bytes, size says %d", len(b), size)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	err, after := f.step("UploadCSV")
	if err != nil {
		return err
	}
	id := strings.TrimPrefix(url, "https://upload.invalid/")
	j := f.jobs[id]
	if j == nil || j.status != JobCreated {
		return fmt.Errorf("upload to %s: no such created job", id)
	}
	j.csv = b
	return after()
}

func (f *fakePool) StartImportJob(ctx context.Context, id string) (Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	err, after := f.step("StartImportJob")
	if err != nil {
		return Job{}, err
	}
	j := f.jobs[id]
	if j == nil || j.status != JobCreated || j.csv == nil {
		return Job{}, codedErr("PreconditionNotMetException")
	}
	j.status = JobPending
	return j.view(id), after()
}

func (f *fakePool) DescribeImportJob(ctx context.Context, id string) (Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	err, after := f.step("DescribeImportJob")
	if err != nil {
		return Job{}, err
	}
	j := f.jobs[id]
	if j == nil {
		return Job{}, codedErr("ResourceNotFoundException")
	}
	switch j.status {
	case JobPending:
		j.status = JobInProgress
	case JobInProgress:
		f.apply(j)
		j.status = JobSucceeded
		if f.failJobs {
			j.status = JobFailed
			j.job.CompletionMessage = "Too many users have failed or been skipped during the import."
		}
	}
	return j.view(id), after()
}

func (f *fakePool) apply(j *fakeJob) {
	f.imports[string(j.csv)]++
	lines := strings.Split(strings.TrimSuffix(string(j.csv), "\n"), "\n")
	header, _ := DecodeLine(lines[0])
	col := slices.Index(header, ColumnUsername)
	for _, l := range lines[1:] {
		fields, err := DecodeLine(l)
		if err != nil || len(fields) != len(header) {
			j.job.Failed++
			continue
		}
		name := fields[col]
		if f.users[name] != nil {
			j.job.Skipped++
			continue
		}
		f.users[name] = &fakeUser{Enabled: true, Status: migrate.StatusResetRequired}
		j.job.Imported++
	}
}

func (f *fakePool) userStep(op string) (error, func() error) {
	if f.throttle > 0 {
		f.throttle--
		f.calls++
		return codedErr("TooManyRequestsException"), nil
	}
	return f.step(op)
}

func (f *fakePool) DisableUser(ctx context.Context, username string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	err, after := f.userStep("DisableUser")
	if err != nil {
		return err
	}
	u := f.users[username]
	if u == nil {
		return codedErr("UserNotFoundException")
	}
	u.Enabled = false
	return after()
}

func (f *fakePool) AddUserToGroup(ctx context.Context, username, group string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	err, after := f.userStep("AddUserToGroup")
	if err != nil {
		return err
	}
	u := f.users[username]
	if u == nil {
		return codedErr("UserNotFoundException")
	}
	if !f.groups[group] {
		return codedErr("ResourceNotFoundException")
	}
	if !slices.Contains(u.Groups, group) {
		u.Groups = append(u.Groups, group)
		slices.Sort(u.Groups)
	}
	return after()
}

func (f *fakePool) GroupExists(ctx context.Context, group string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	err, after := f.userStep("GetGroup")
	if err != nil {
		return false, err
	}
	return f.groups[group], after()
}

func (f *fakePool) CreateGroup(ctx context.Context, group string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	err, after := f.userStep("CreateGroup")
	if err != nil {
		return err
	}
	if f.groups[group] {
		return codedErr("GroupExistsException")
	}
	f.groups[group] = true
	return after()
}

// snapshot is what an import leaves in the pool, for comparing runs.
type snapshot struct {
	Users   map[string]fakeUser
	Groups  []string
	Started int            // jobs ever started
	Imports map[string]int // applications per CSV content
}

func (f *fakePool) snapshot() snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := snapshot{Users: map[string]fakeUser{}, Imports: maps.Clone(f.imports)}
	for n, u := range f.users {
		s.Users[n] = *u
	}
	s.Groups = slices.Sorted(maps.Keys(f.groups))
	for _, j := range f.jobs {
		if j.status != JobCreated {
			s.Started++
		}
	}
	return s
}

// exportFixture writes an export of 7 users in files of 3 into a new
// directory: carol is disabled, dave is already in the new pool (the
// trigger moved him), several have groups, one group ("ops") is missing
// from the new pool.
func exportFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	e := newTestExporter(t, dir, func(o *ExportOptions) { o.MaxUsersPerFile = 3 })
	add := func(name string, enabled bool, groups ...string) {
		u := user(name)
		u.Enabled = enabled
		if err := e.Add(u, groups); err != nil {
			t.Fatal(err)
		}
	}
	add("alice", true, "staff", "admins")
	add("bob", true)
	add("carol", false, "staff")
	add("dave", true, "staff")
	add("erin", false)
	add("frank", true, "ops")
	add("grace", true, "staff", "ops")
	if _, err := e.Commit(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func fixturePool() *fakePool {
	f := newFakePool()
	f.users["dave"] = &fakeUser{Enabled: true, Status: migrate.StatusConfirmed}
	f.groups["staff"] = true
	f.groups["admins"] = true
	return f
}

func testImporter(dir string, api ImportAPI, clock Clock) *Importer {
	return &Importer{
		API: api, Dir: dir, Clock: clock,
		PollInterval: time.Second, CheckpointEvery: 2, CreateMissingGroups: true,
		JobLimiter:  NewLimiter(clock, ImportJobRPS, 1),
		UserLimiter: NewLimiter(clock, UserUpdateRPS, 1),
	}
}

func TestImportEndToEnd(t *testing.T) {
	dir := exportFixture(t)
	f := fixturePool()
	st, err := testImporter(dir, f, newFakeClock()).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := snapshot{
		Users: map[string]fakeUser{
			"alice": {Enabled: true, Status: "RESET_REQUIRED", Groups: []string{"admins", "staff"}},
			"bob":   {Enabled: true, Status: "RESET_REQUIRED"},
			"carol": {Enabled: false, Status: "RESET_REQUIRED", Groups: []string{"staff"}},
			"dave":  {Enabled: true, Status: "CONFIRMED", Groups: []string{"staff"}},
			"erin":  {Enabled: false, Status: "RESET_REQUIRED"},
			"frank": {Enabled: true, Status: "RESET_REQUIRED", Groups: []string{"ops"}},
			"grace": {Enabled: true, Status: "RESET_REQUIRED", Groups: []string{"ops", "staff"}},
		},
		Groups:  []string{"admins", "ops", "staff"},
		Started: 3,
	}
	got := f.snapshot()
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(snapshot{}, "Imports")); diff != "" {
		t.Errorf("new pool after import (-want +got):\n%s", diff)
	}
	for csv, n := range got.Imports {
		if n != 1 {
			t.Errorf("a file was imported %d times:\n%s", n, csv)
		}
	}
	var imported, skipped, disabled, added int64
	for _, fs := range st.Files {
		if !fs.Done || fs.JobStatus != JobSucceeded {
			t.Errorf("%s: done %v, status %s", fs.CSV, fs.Done, fs.JobStatus)
		}
		imported += fs.Imported
		skipped += fs.Skipped
		disabled += int64(fs.Disabled)
		added += int64(fs.MembershipsAdded)
	}
	if imported != 6 || skipped != 1 || disabled != 2 || added != 7 {
		t.Errorf("imported %d, skipped %d, disabled %d, memberships %d; want 6, 1, 2, 7", imported, skipped, disabled, added)
	}
	saved, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st, saved); diff != "" {
		t.Errorf("saved state differs from the returned one (-returned +saved):\n%s", diff)
	}

	// A second run changes nothing and calls nothing.
	before := f.calls
	if _, err := testImporter(dir, f, newFakeClock()).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.calls != before {
		t.Errorf("second run made %d calls: %v", f.calls-before, f.log[before:])
	}
}

func TestImportWithoutCreatingGroups(t *testing.T) {
	dir := exportFixture(t)
	f := fixturePool()
	im := testImporter(dir, f, newFakeClock())
	im.CreateMissingGroups = false
	st, err := im.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f.groups["ops"] {
		t.Error("the ops group was created without CreateMissingGroups")
	}
	left := 0
	var missing []string
	for _, fs := range st.Files {
		left += fs.MembershipsLeft
		missing = append(missing, fs.MissingGroups...)
	}
	if left != 2 || !slices.Equal(missing, []string{"ops"}) {
		t.Errorf("memberships left %d, missing groups %v; want 2 and [ops]", left, missing)
	}
}

// Killing the import at every call in turn, before or after the call took
// effect, and running it again ends exactly as one uninterrupted run, and
// never imports a file twice.
func TestImportCrashAtEveryStep(t *testing.T) {
	ref := fixturePool()
	refState, err := testImporter(exportFixture(t), ref, newFakeClock()).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := ref.snapshot()
	total := ref.calls
	ignore := cmpopts.IgnoreFields(FileState{}, "JobID", "JobName", "JobCreatedAt", "AbandonedJobs", "GroupsCreated")

	for _, after := range []bool{false, true} {
		for k := 1; k <= total; k++ {
			t.Run(fmt.Sprintf("after=%v/call=%d", after, k), func(t *testing.T) {
				dir := exportFixture(t)
				f := fixturePool()
				f.crashAt, f.crashAfter = k, after
				clock := newFakeClock()
				_, err := testImporter(dir, f, clock).Run(context.Background())
				if !errors.Is(err, errCrash) {
					t.Fatalf("run with a crash at call %d (%v) = %v, want the crash", k, f.log, err)
				}
				f.crashAt = 0
				st, err := testImporter(dir, f, clock).Run(context.Background())
				if err != nil {
					t.Fatalf("second run: %v", err)
				}
				got := f.snapshot()
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("pool after crash at %s and a rerun (-uninterrupted +got):\n%s", f.log[k-1], diff)
				}
				if diff := cmp.Diff(refState, st, ignore); diff != "" {
					t.Errorf("state after crash at %s and a rerun (-uninterrupted +got):\n%s", f.log[k-1], diff)
				}
			})
		}
	}
}

// A job created but not uploaded before its URL's 15 minutes passed is
// abandoned (it was never started) and the file gets a new job.
func TestImportAbandonsStaleCreatedJob(t *testing.T) {
	dir := exportFixture(t)
	f := fixturePool()
	f.crashAt = 3 // CreateImportJob, DescribeImportJob, then the upload
	clock := newFakeClock()
	if _, err := testImporter(dir, f, clock).Run(context.Background()); !errors.Is(err, errCrash) {
		t.Fatalf("first run: %v", err)
	}
	f.crashAt = 0
	clock.Sleep(context.Background(), 20*time.Minute)
	st, err := testImporter(dir, f, clock).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Files[0].AbandonedJobs; !slices.Equal(got, []string{"import-1"}) {
		t.Errorf("abandoned jobs %v, want [import-1]", got)
	}
	if f.jobs["import-1"].status != JobCreated {
		t.Errorf("abandoned job is %s", f.jobs["import-1"].status)
	}
	if s := f.snapshot(); s.Started != 3 {
		t.Errorf("%d jobs started, want 3", s.Started)
	}
}

func TestImportRetriesThrottledUserCalls(t *testing.T) {
	dir := exportFixture(t)
	f := fixturePool()
	f.throttle = 3
	// Throttling hits the first user calls; they are retried and succeed.
	if _, err := testImporter(dir, f, newFakeClock()).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.throttle != 0 || f.users["carol"].Enabled {
		t.Errorf("throttles left %d, carol enabled %v; want 0 and false", f.throttle, f.users["carol"].Enabled)
	}
}

func TestImportRefusesUnfinishedExport(t *testing.T) {
	dir := t.TempDir()
	e := newTestExporter(t, dir, nil)
	if err := e.Add(user("a"), nil); err != nil {
		t.Fatal(err)
	}
	f := newFakePool()
	if _, err := testImporter(dir, f, newFakeClock()).Run(context.Background()); err == nil {
		t.Error("import of an unfinished export succeeded")
	}
	if f.calls != 0 {
		t.Errorf("%d calls made for an unfinished export", f.calls)
	}
	_ = e.Abort()
}

// The state file never holds the pre-signed URL.
func TestImportStateHoldsNoURL(t *testing.T) {
	dir := exportFixture(t)
	if _, err := testImporter(dir, fixturePool(), newFakeClock()).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, _ := readFile(filepath.Join(dir, StateFile))
	if bytes.Contains(b, []byte("upload.invalid")) {
		t.Errorf("state file holds the pre-signed URL:\n%s", b)
	}
}

func (f *fakePool) CSVHeader(ctx context.Context) ([]string, error) { return testHeader, nil }

func (f *fakePool) ListImportJobs(ctx context.Context) ([]Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Job
	for _, id := range f.order {
		out = append(out, f.jobs[id].view(id))
	}
	return out, nil
}

type otherHeader struct{ *fakePool }

func (otherHeader) CSVHeader(ctx context.Context) ([]string, error) {
	return append(slices.Clone(testHeader), "custom:new"), nil
}

func TestCheckImport(t *testing.T) {
	dir := exportFixture(t)
	f := fixturePool()
	ctx := context.Background()
	if p, err := CheckImport(ctx, f, dir); err != nil || len(p) != 0 {
		t.Errorf("CheckImport of a good export = %q, %v; want no problems", p, err)
	}
	if p, _ := CheckImport(ctx, otherHeader{f}, dir); len(p) != 1 || !strings.Contains(p[0], "header") {
		t.Errorf("CheckImport after a schema change = %q", p)
	}
	f.jobs["import-9"] = &fakeJob{name: "someone else's", status: JobInProgress}
	f.order = append(f.order, "import-9")
	if p, _ := CheckImport(ctx, f, dir); len(p) != 1 || !strings.Contains(p[0], "import-9") {
		t.Errorf("CheckImport with a running job = %q", p)
	}
	if f.calls != 0 {
		t.Errorf("CheckImport made %d changing calls", f.calls)
	}
	if p, _ := CheckImport(ctx, f, t.TempDir()); len(p) != 1 {
		t.Errorf("CheckImport of an empty directory = %q", p)
	}
}

// A failed job may have imported users all the same: they still get their
// disabled flag and groups, and the file is not imported again.
func TestImportFailedJobStillDisables(t *testing.T) {
	dir := exportFixture(t)
	f := fixturePool()
	f.failJobs = true
	st, err := testImporter(dir, f, newFakeClock()).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, fs := range st.Files {
		if !fs.Done || fs.JobStatus != JobFailed || fs.CompletionMessage == "" {
			t.Errorf("%s: done %v, status %s, message %q", fs.CSV, fs.Done, fs.JobStatus, fs.CompletionMessage)
		}
	}
	if f.users["carol"].Enabled || f.users["erin"].Enabled {
		t.Error("a disabled old user is enabled in the new pool")
	}
	before := f.calls
	if _, err := testImporter(dir, f, newFakeClock()).Run(context.Background()); err != nil || f.calls != before {
		t.Errorf("rerun after failed jobs: %v, %d calls", err, f.calls-before)
	}
}

// A job that expired before it was started imported nothing: the file gets
// a new job.
func TestImportReplacesExpiredJob(t *testing.T) {
	dir := exportFixture(t)
	f := fixturePool()
	f.crashAt = 3 // before the first upload
	clock := newFakeClock()
	if _, err := testImporter(dir, f, clock).Run(context.Background()); !errors.Is(err, errCrash) {
		t.Fatalf("first run: %v", err)
	}
	f.crashAt = 0
	f.jobs["import-1"].status = JobExpired
	st, err := testImporter(dir, f, clock).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Files[0].AbandonedJobs; !slices.Equal(got, []string{"import-1"}) || st.Files[0].JobStatus != JobSucceeded {
		t.Errorf("abandoned %v, status %s; want [import-1], Succeeded", got, st.Files[0].JobStatus)
	}
}

// Someone who took an exported username in the new pool after the export
// gets neither the old user's groups nor their disabled flag.
func TestImportSamePerson(t *testing.T) {
	dir := exportFixture(t)
	f := fixturePool()
	f.users["carol"] = &fakeUser{Enabled: true, Status: migrate.StatusConfirmed} // a stranger took "carol"
	im := testImporter(dir, f, newFakeClock())
	var asked []string
	im.SamePerson = func(ctx context.Context, m ManifestLine) (bool, error) {
		asked = append(asked, m.NewUsername)
		return m.NewUsername != "carol" && m.NewUsername != "dave", nil
	}
	st, err := im.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c := f.users["carol"]; !c.Enabled || len(c.Groups) != 0 {
		t.Errorf("the stranger carol: %+v; want enabled, no groups", *c)
	}
	if d := f.users["dave"]; len(d.Groups) != 0 {
		t.Errorf("dave refused by SamePerson got groups %v", d.Groups)
	}
	if !slices.Equal(f.users["alice"].Groups, []string{"admins", "staff"}) || f.users["erin"].Enabled {
		t.Error("the others did not get their groups and flags")
	}
	n := 0
	for _, fs := range st.Files {
		n += fs.NotSamePerson
	}
	if n != 2 {
		t.Errorf("NotSamePerson = %d, want 2 (carol, dave)", n)
	}
	want := []string{"carol", "alice", "carol", "erin", "dave", "frank", "grace"}
	if !slices.Equal(asked, want) {
		t.Errorf("asked about %v, want %v", asked, want)
	}
}
