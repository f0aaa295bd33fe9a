package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cognito-migrate/cognito-migrate/internal/bulk"
	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
	"github.com/cognito-migrate/cognito-migrate/internal/settings"
)

const (
	bulkNewPool = "eu-west-1_NewPool1"
	bulkOldPool = "us-east-1_OldPool1"
	logsRole    = "arn:aws:iam::111122223333:role/CognitoImportLogs"
)

// bulkPool is the new pool: usernames with an email alias, case
// insensitive, SMS MFA optional, a legacy sub attribute and a tenant.
const bulkPool = `{"UserPool": {
  "Id": "eu-west-1_NewPool1", "Name": "new-pool",
  "Arn": "arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_NewPool1",
  "AliasAttributes": ["email"],
  "UsernameConfiguration": {"CaseSensitive": false},
  "MfaConfiguration": "OPTIONAL",
  "SchemaAttributes": [
    {"Name": "sub", "AttributeDataType": "String", "Mutable": false, "Required": true},
    {"Name": "email", "AttributeDataType": "String", "Mutable": true},
    {"Name": "email_verified", "AttributeDataType": "Boolean", "Mutable": true},
    {"Name": "phone_number", "AttributeDataType": "String", "Mutable": true},
    {"Name": "phone_number_verified", "AttributeDataType": "Boolean", "Mutable": true},
    {"Name": "name", "AttributeDataType": "String", "Mutable": true},
    {"Name": "locale", "AttributeDataType": "String", "Mutable": true},
    {"Name": "custom:legacy_sub", "AttributeDataType": "String", "Mutable": true},
    {"Name": "custom:tenant", "AttributeDataType": "String", "Mutable": true}
  ]}}`

// bulkClients shortens the import's polling; cut, when set, makes every
// call from the cut-th on fail, as if the process died there: before the
// request is sent, or (cutAfter) once the server has acted on it and
// before the answer is read.
type bulkClients struct {
	*testClients
	calls    atomic.Int64
	cut      int64
	cutAfter bool
	// refuse, when set, answers the requests it picks (by operation and
	// body) with an AccessDeniedException.
	refuse func(op string, body []byte) bool
	// tty, when set, is a terminal's input.
	tty *string
}

func (c *bulkClients) terminal() (io.Reader, bool) {
	if c.tty == nil {
		return nil, false
	}
	return strings.NewReader(*c.tty), true
}

func (c *bulkClients) tuneImporter(im *bulk.Importer) {
	im.PollInterval = time.Millisecond
	im.JobLimiter = bulk.NewLimiter(bulk.SystemClock{}, 1000, 10)
	im.UserLimiter = bulk.NewLimiter(bulk.SystemClock{}, 1000, 10)
}

func (c *bulkClients) Config(ctx context.Context, profile string) (aws.Config, error) {
	cfg, err := c.testClients.Config(ctx, profile)
	if err == nil {
		cfg.HTTPClient = cutHTTP{c: c, next: cfg.HTTPClient}
		if c.cut > 0 {
			// A dead process retries nothing; the SDK's backoff would
			// only slow the test down.
			cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
		}
	}
	return cfg, err
}

var errKilled = errors.New("killed")

type cutHTTP struct {
	c    *bulkClients
	next aws.HTTPClient
}

func (h cutHTTP) Do(r *http.Request) (*http.Response, error) {
	n := h.c.calls.Add(1)
	if h.c.refuse != nil && r.Body != nil {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		if h.c.refuse(op, body) {
			return &http.Response{StatusCode: http.StatusBadRequest, Request: r,
				Header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amzn-Errortype": {"AccessDeniedException"}},
				Body:   io.NopCloser(strings.NewReader(`{"__type":"AccessDeniedException","message":"not allowed"}`))}, nil
		}
	}
	if h.c.cut == 0 || n < h.c.cut {
		return h.next.Do(r)
	}
	if h.c.cutAfter {
		if resp, err := h.next.Do(r); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	return nil, errKilled
}

type bulkEnv struct {
	*env
	clients *bulkClients
}

func (e *bulkEnv) run(t *testing.T, args ...string) runResult {
	t.Helper()
	return e.runWith(t, e.clients, args...)
}

func (e *bulkEnv) runWith(t *testing.T, clients Clients, args ...string) runResult {
	t.Helper()
	var stdout, stderr strings.Builder
	code := Run(context.Background(), args, e.getenv, &stdout, &stderr, clients)
	t.Logf("cognito-migrate %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	return runResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// oldUsers are the old pool's users: who is exported and who is skipped,
// and why.
func addOldUsers(f *cognitotest.Fake) {
	u := func(name string, enabled bool, status string, attrs ...string) cognitotest.User {
		a := map[string]string{"sub": "old-sub-" + name}
		for i := 0; i+1 < len(attrs); i += 2 {
			a[attrs[i]] = attrs[i+1]
		}
		return cognitotest.User{Username: name, Enabled: enabled, Status: status, Attributes: a}
	}
	for _, x := range []cognitotest.User{
		u("alice", true, "CONFIRMED", "email", "alice@example.com", "email_verified", "true", "name", `Smith, Alice`,
			"phone_number", "+0044123", "custom:org", "acme", "nickname", "dropped"),
		u("bob", false, "CONFIRMED", "email", "bob@example.com", "email_verified", "true", "locale", "fr"),
		u("carol", true, "UNCONFIRMED", "email", "carol@example.com", "email_verified", "true"),
		u("dave", true, "CONFIRMED", "email", "dave@example.com", "email_verified", "true"),
		u("erin", true, "CONFIRMED", "email", "erin@example.com", "email_verified", "false"),
		u("frank", true, "CONFIRMED", "email", "frank@example.com", "email_verified", "true"),
		u("gina", true, "CONFIRMED", "phone_number", "+33612345678", "phone_number_verified", "true", "name", "Gína Ünïcode"),
		u("hank@example.com", true, "CONFIRMED", "email", "hank@example.com", "email_verified", "true"),
		u("ivan", true, "FORCE_CHANGE_PASSWORD", "email", "ivan@example.com", "email_verified", "true"),
		u("judy", true, "CONFIRMED", "email", "judy@example.com", "email_verified", "true", "name", `C:\Users\judy`),
	} {
		switch x.Username {
		case "frank":
			x.MFASettings = []string{"SOFTWARE_TOKEN_MFA"}
		case "gina":
			x.MFASettings = []string{"SMS_MFA"}
		}
		f.AddUser(bulkOldPool, x)
	}
	for _, g := range []string{"staff", "admins", "empty"} {
		f.AddGroup(bulkOldPool, g)
	}
	f.AddToGroup(bulkOldPool, "staff", "alice")
	f.AddToGroup(bulkOldPool, "admins", "alice")
	f.AddToGroup(bulkOldPool, "staff", "bob")
	f.AddToGroup(bulkOldPool, "staff", "dave")
}

var bulkSettings = map[string]string{
	settings.EnvOldUserPoolID:      bulkOldPool,
	settings.EnvOldClientID:        "oldclient123",
	settings.EnvLegacySubAttribute: "custom:legacy_sub",
	settings.EnvAttributeMap:       "custom:org=custom:tenant",
	settings.EnvMFAPolicy:          "migrate",
}

// newBulkEnv has both pools in one wire fake (the old one reached through
// OLD_USER_POOL_ENDPOINT) and the function's settings. dave is in the new
// pool already: the function moved him.
func newBulkEnv(t *testing.T, vars map[string]string) *bulkEnv {
	t.Helper()
	e := newEnv(t)
	e.cognito.AddPool(cognitotest.Pool{ID: bulkOldPool})
	e.cognito.AddPool(cognitotest.Pool{ID: bulkNewPool, AliasAttributes: []string{"email"}})
	e.cognito.PutUserPool([]byte(bulkPool))
	addOldUsers(e.cognito)
	e.cognito.AddUser(bulkNewPool, cognitotest.User{Username: "dave", Enabled: true, Created: time.Now().Add(-time.Hour), Attributes: map[string]string{
		"email": "dave@example.com", "email_verified": "true", "custom:legacy_sub": "old-sub-dave"}})
	e.cognito.AddGroup(bulkNewPool, "staff")
	e.lambda.SetEnvironment(functionARN, vars)
	e.vars = map[string]string{settings.EnvOldUserPoolEndpoint: e.cognito.URL}
	return &bulkEnv{env: e, clients: &bulkClients{testClients: e.clients}}
}

func exportArgs(dir string, more ...string) []string {
	return append([]string{"export", "--user-pool-id", bulkNewPool, "--function-arn", functionARN, "--out", dir, "--output", "json"}, more...)
}

func importArgs(dir string, more ...string) []string {
	return append([]string{"import", "--user-pool-id", bulkNewPool, "--function-arn", functionARN, "--from", dir,
		"--cloudwatch-logs-role-arn", logsRole, "--output", "json"}, more...)
}

// poolState is what the new pool holds: users (without their new sub)
// and group members.
type poolState struct {
	Users  map[string]userState
	Groups map[string][]string
}

type userState struct {
	Status  string
	Enabled bool
	Attrs   map[string]string
}

func newPoolState(f *cognitotest.Fake) poolState {
	s := poolState{Users: map[string]userState{}, Groups: map[string][]string{}}
	for _, u := range f.Users(bulkNewPool) {
		delete(u.Attributes, "sub")
		s.Users[u.Username] = userState{u.Status, u.Enabled, u.Attributes}
	}
	for _, g := range []string{"staff", "admins", "empty"} {
		if m, ok := f.GroupMembers(bulkNewPool, g); ok {
			s.Groups[g] = m
		}
	}
	return s
}

// functionWouldGive is what the function's forgot-password decision gives
// the old user who types name: the trigger's own code, read through the
// real adapters.
func functionWouldGive(t *testing.T, f *cognitotest.Fake, name string) migrate.Decision {
	t.Helper()
	s, err := settings.Load(func(k string) string { return bulkSettings[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	old, newPool := cognito.NewOldPool(f.Client(), bulkOldPool, "oldclient123", ""), cognito.NewNewPool(f.Client())
	d, err := migrate.New(old, newPool, s.Rules).ForgotPassword(ctx, migrate.Request{NewPoolID: bulkNewPool, Username: name})
	if err != nil {
		t.Fatal(err)
	}
	if d.Reason == migrate.UserDisabled {
		// The function refuses disabled users; the export moves them
		// and import disables them again: their shape is the same code's.
		u, err := old.GetUser(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := newPool.Config(ctx, bulkNewPool)
		if err != nil {
			t.Fatal(err)
		}
		shape, reason, err := s.Rules.Shape(cfg, u, name)
		if err != nil || reason != "" {
			t.Fatalf("Shape(%s) = %v, %v", name, reason, err)
		}
		return migrate.Decision{Migrate: true, Attributes: shape.Attributes}
	}
	return d
}

func readJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v in %s", err, s)
	}
	return v
}

// Export and import end to end through the commands: every eligible old
// user arrives as the function would have made them, disabled users are
// disabled, memberships are the old ones, every other user is skipped with
// a reason, and a second run changes nothing.
func TestExportImportEndToEnd(t *testing.T) {
	e := newBulkEnv(t, bulkSettings)
	dir := filepath.Join(t.TempDir(), "export")

	dry := e.run(t, exportArgs(dir, "--dry-run")...)
	if dry.code != ExitOK {
		t.Fatalf("export --dry-run: exit %d", dry.code)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("export --dry-run wrote %s", dir)
	}

	r := e.run(t, exportArgs(dir)...)
	if r.code != ExitOK {
		t.Fatalf("export: exit %d", r.code)
	}
	got := readJSON[exportResult](t, r.stdout)
	wantSkipped := map[bulk.SkipReason]int{
		bulk.SkipUnconfirmed:                 1, // carol
		bulk.SkipAlreadyInNewPool:            1, // dave
		bulk.SkipNoVerifiedContact:           1, // erin
		bulk.SkipForceChangePassword:         1, // ivan
		bulk.SkipUnrepresentable:             1, // judy: a backslash
		bulk.SkipReason("username_is_email"): 1, // hank: the new pool's email alias refuses it
	}
	if diff := cmp.Diff(wantSkipped, got.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if got.OldPoolUsers != 10 || got.NewPoolUsers != 1 || got.Exported != 4 {
		t.Errorf("listed %d old, %d new, exported %d; want 10, 1, 4", got.OldPoolUsers, got.NewPoolUsers, got.Exported)
	}
	dryGot := readJSON[exportResult](t, dry.stdout)
	if dryGot.Exported != got.Exported || !cmp.Equal(dryGot.Skipped, got.Skipped) {
		t.Errorf("dry run counted %d %v, the export %d %v", dryGot.Exported, dryGot.Skipped, got.Exported, got.Skipped)
	}
	skippedLines, _ := os.ReadFile(filepath.Join(dir, bulk.SkippedFile))
	if n := strings.Count(string(skippedLines), "\n"); n != 6 {
		t.Errorf("skipped.jsonl has %d lines, want 6", n)
	}

	// Without a terminal and without --yes, import refuses.
	if r := e.run(t, importArgs(dir)...); r.code != ExitUsage || !strings.Contains(r.stderr, "--yes") {
		t.Errorf("import without --yes: exit %d, %q", r.code, r.stderr)
	}
	if r := e.run(t, importArgs(dir, "--dry-run")...); r.code != ExitOK {
		t.Errorf("import --dry-run: exit %d", r.code)
	}
	if n := e.cognito.CallCount("CreateUserImportJob"); n != 0 {
		t.Fatalf("refused and dry runs created %d jobs", n)
	}

	r = e.run(t, importArgs(dir, "--yes", "--create-missing-groups")...)
	if r.code != ExitOK {
		t.Fatalf("import: exit %d", r.code)
	}
	res := readJSON[importResult](t, r.stdout)
	if res.Imported != 4 || res.Skipped != 0 || res.Failed != 0 || res.DisabledAgain != 1 || res.MembershipsAdded != 3 || len(res.LeftToDo) != 0 {
		t.Errorf("import summary %+v", res)
	}

	state := newPoolState(e.cognito)
	for _, name := range []string{"alice", "bob", "frank", "gina"} {
		d := functionWouldGive(t, e.cognito, name)
		u, ok := state.Users[name]
		if !d.Migrate || !ok {
			t.Errorf("%s: the function migrates: %v; in the new pool: %v", name, d.Migrate, ok)
			continue
		}
		if diff := cmp.Diff(d.Attributes, u.Attrs); diff != "" {
			t.Errorf("%s's attributes differ from the function's (-function +import):\n%s", name, diff)
		}
		if u.Status != "RESET_REQUIRED" || u.Enabled != (name != "bob") {
			t.Errorf("%s: %s, enabled %v", name, u.Status, u.Enabled)
		}
	}
	if len(state.Users) != 5 {
		t.Errorf("new pool users: %v, want alice, bob, dave, frank and gina", slices.Sorted(func(yield func(string) bool) {
			for k := range state.Users {
				if !yield(k) {
					return
				}
			}
		}))
	}
	wantGroups := map[string][]string{"staff": {"alice", "bob"}, "admins": {"alice"}}
	if diff := cmp.Diff(wantGroups, state.Groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	for _, c := range e.cognito.Calls() {
		if c.Operation == "CreateGroup" && c.Input["GroupName"] == "staff" {
			t.Error("the existing group staff was created again")
		}
	}
	gina := e.cognito.Users(bulkNewPool)
	for _, u := range gina {
		if u.Username == "gina" && !slices.Equal(u.MFASettings, []string{"SMS_MFA"}) {
			t.Errorf("gina's SMS MFA: %v", u.MFASettings)
		}
	}

	// A second run changes nothing: the import does nothing, and a new
	// export finds everyone in the new pool.
	before := len(e.cognito.Calls())
	if r := e.run(t, importArgs(dir, "--yes")...); r.code != ExitOK {
		t.Errorf("second import: exit %d", r.code)
	}
	for _, c := range e.cognito.Calls()[before:] {
		switch c.Operation {
		case "CreateUserImportJob", "StartUserImportJob", "AdminDisableUser", "AdminAddUserToGroup", "CreateGroup":
			t.Errorf("second import called %s", c.Operation)
		}
	}
	if diff := cmp.Diff(state, newPoolState(e.cognito)); diff != "" {
		t.Errorf("second import changed the new pool:\n%s", diff)
	}
	r = e.run(t, exportArgs(filepath.Join(t.TempDir(), "again"))...)
	if again := readJSON[exportResult](t, r.stdout); r.code != ExitOK || again.Exported != 0 || again.Skipped[bulk.SkipAlreadyInNewPool] != 5 {
		t.Errorf("second export: exit %d, %+v", r.code, again)
	}
}

func TestBulkHelp(t *testing.T) {
	for _, cmd := range []string{"export", "import", "map"} {
		t.Run(cmd, func(t *testing.T) {
			r := newEnv(t).run(t, cmd, "-h")
			if r.code != ExitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			golden(t, "help."+cmd+".txt", []byte(r.stdout))
		})
	}
}

// Killing import at any call, before the request leaves or after Cognito
// acted on it and before the answer arrives, and running it again ends in
// the state of one uninterrupted run, and no file is imported twice.
func TestImportKilledAtEachStep(t *testing.T) {
	exportTo := func(t *testing.T, e *bulkEnv) string {
		t.Helper()
		dir := filepath.Join(t.TempDir(), "export")
		if r := e.run(t, exportArgs(dir)...); r.code != ExitOK {
			t.Fatalf("export: exit %d", r.code)
		}
		return dir
	}
	args := func(dir string) []string { return importArgs(dir, "--yes", "--create-missing-groups") }

	ref := newBulkEnv(t, bulkSettings)
	dir := exportTo(t, ref)
	before := ref.clients.calls.Load()
	if r := ref.run(t, args(dir)...); r.code != ExitOK {
		t.Fatalf("uninterrupted import: exit %d", r.code)
	}
	calls := ref.clients.calls.Load() - before
	want := newPoolState(ref.cognito)
	if len(want.Users) != 5 || len(want.Groups["staff"]) != 2 {
		t.Fatalf("the uninterrupted import gave %+v", want)
	}

	for _, after := range []bool{false, true} {
		for cut := int64(1); cut <= calls; cut++ {
			name := fmt.Sprintf("before call %d", cut)
			if after {
				name = fmt.Sprintf("after call %d", cut)
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := newBulkEnv(t, bulkSettings)
				dir := exportTo(t, e)
				killed := &bulkClients{testClients: e.env.clients, cut: cut, cutAfter: after}
				text := slices.DeleteFunc(args(dir), func(a string) bool { return a == "--output" || a == "json" })
				if r := e.runWith(t, killed, text...); r.code == ExitOK {
					t.Fatalf("the killed import exited 0")
				} else if strings.Contains(r.stdout, "Nothing left to do") {
					t.Errorf("the killed import says nothing is left to do:\n%s", r.stdout)
				}
				r := e.run(t, args(dir)...)
				if r.code != ExitOK {
					t.Fatalf("the import run again: exit %d", r.code)
				}
				if diff := cmp.Diff(want, newPoolState(e.cognito)); diff != "" {
					t.Errorf("new pool after a kill and a rerun (-uninterrupted +got):\n%s", diff)
				}
				started := 0
				for _, c := range e.cognito.Calls() {
					if c.Operation == "StartUserImportJob" && c.Status == http.StatusOK {
						started++
					}
				}
				if started != 1 {
					t.Errorf("%d import jobs started for one file", started)
				}
				if res := readJSON[importResult](t, r.stdout); res.Imported != 4 || res.DisabledAgain != 1 || res.MembershipsAdded != 3 {
					t.Errorf("summary after the rerun: %d imported, %d disabled, %d memberships; want 4, 1, 3", res.Imported, res.DisabledAgain, res.MembershipsAdded)
				}
			})
		}
	}
}

// Someone who takes an exported username in the new pool after the export
// never gets the old user's groups or disabled flag.
func TestImportLeavesSomeoneElsesUsername(t *testing.T) {
	for _, legacy := range []string{"custom:legacy_sub", ""} {
		t.Run("LEGACY_SUB_ATTRIBUTE="+legacy, func(t *testing.T) {
			vars := maps.Clone(bulkSettings)
			vars[settings.EnvLegacySubAttribute] = legacy
			e := newBulkEnv(t, vars)
			dir := filepath.Join(t.TempDir(), "export")
			if r := e.run(t, exportArgs(dir)...); r.code != ExitOK {
				t.Fatalf("export: exit %d", r.code)
			}
			for _, name := range []string{"alice", "bob"} {
				e.cognito.AddUser(bulkNewPool, cognitotest.User{Username: name, Enabled: true, Attributes: map[string]string{
					"email": "new-" + name + "@example.org", "email_verified": "true"}})
			}
			r := e.run(t, importArgs(dir, "--yes", "--create-missing-groups")...)
			if r.code != ExitFailure {
				t.Errorf("exit %d, want %d: something is left to decide", r.code, ExitFailure)
			}
			res := readJSON[importResult](t, r.stdout)
			if res.Files[0].NotSamePerson != 2 || res.Imported != 2 || res.Skipped != 2 {
				t.Errorf("not the same person %d, imported %d, skipped %d; want 2, 2, 2", res.Files[0].NotSamePerson, res.Imported, res.Skipped)
			}
			if !slices.ContainsFunc(res.LeftToDo, func(s string) bool { return strings.Contains(s, "belong to someone else") }) {
				t.Errorf("left to do: %q", res.LeftToDo)
			}
			state := newPoolState(e.cognito)
			if !state.Users["bob"].Enabled {
				t.Error("the new bob was disabled with the old bob's flag")
			}
			if diff := cmp.Diff(map[string][]string{"staff": nil, "admins": nil}, state.Groups, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("the new alice and bob got the old ones' groups:\n%s", diff)
			}
		})
	}
}

// A listing that fails half-way fails the command and leaves nothing that
// looks like an export: no export.json, no CSV file, and import refuses
// the directory.
func TestExportFailedListingLeavesNoExport(t *testing.T) {
	e := newBulkEnv(t, bulkSettings)
	for i := range 70 { // two pages
		name := fmt.Sprintf("user%03d", i)
		e.cognito.AddUser(bulkOldPool, cognitotest.User{Username: name, Enabled: true, Attributes: map[string]string{
			"email": name + "@example.com", "email_verified": "true"}})
	}
	e.clients.refuse = func(op string, body []byte) bool {
		return op == "ListUsers" && bytes.Contains(body, []byte(bulkOldPool)) && bytes.Contains(body, []byte("PaginationToken"))
	}
	dir := filepath.Join(t.TempDir(), "export")
	r := e.run(t, exportArgs(dir)...)
	if r.code != ExitFailure || !strings.Contains(r.stderr, "ListUsers on user pool "+bulkOldPool) {
		t.Fatalf("export with a failed listing: exit %d, stderr %q", r.code, r.stderr)
	}
	if res := readJSON[exportResult](t, r.stdout); res.Error == nil || res.Exported != 0 {
		t.Errorf("result %+v: want an error and nothing exported", res)
	}
	entries, _ := os.ReadDir(dir)
	for _, de := range entries {
		t.Errorf("the failed export left %s", de.Name())
	}
	e.clients.refuse = nil
	if r := e.run(t, importArgs(dir, "--yes")...); r.code != ExitFailure || !strings.Contains(r.stdout, "not a finished export") {
		t.Errorf("import of the failed export: exit %d, %s", r.code, r.stdout)
	}
	if n := e.cognito.CallCount("CreateUserImportJob"); n != 0 {
		t.Errorf("%d jobs created from a failed export", n)
	}
}

// On a terminal, import asks first; anything but yes changes nothing.
func TestImportAsksOnATerminal(t *testing.T) {
	e := newBulkEnv(t, bulkSettings)
	dir := filepath.Join(t.TempDir(), "export")
	if r := e.run(t, exportArgs(dir)...); r.code != ExitOK {
		t.Fatalf("export: exit %d", r.code)
	}
	no, yes := "n\n", "yes\n"
	e.clients.tty = &no
	r := e.run(t, importArgs(dir)...)
	if r.code != ExitFailure || !strings.Contains(r.stderr, "[y/N]") || !strings.Contains(r.stderr, "not confirmed") {
		t.Errorf("answered no: exit %d, stderr %q", r.code, r.stderr)
	}
	if n := e.cognito.CallCount("CreateUserImportJob"); n != 0 {
		t.Fatalf("answered no, and %d jobs were created", n)
	}
	e.clients.tty = &yes
	if r := e.run(t, importArgs(dir, "--create-missing-groups")...); r.code != ExitOK {
		t.Errorf("answered yes: exit %d", r.code)
	}
}

// --dry-run finds another import job running, and changes nothing.
func TestImportDryRunFindsARunningJob(t *testing.T) {
	e := newBulkEnv(t, bulkSettings)
	dir := filepath.Join(t.TempDir(), "export")
	if r := e.run(t, exportArgs(dir)...); r.code != ExitOK {
		t.Fatalf("export: exit %d", r.code)
	}
	ctx := context.Background()
	jobs := cognito.NewImportJobs(e.cognito.Client(), bulkNewPool, logsRole, nil)
	other, err := jobs.CreateImportJob(ctx, "someone-elses")
	if err != nil {
		t.Fatal(err)
	}
	header, _ := jobs.CSVHeader(ctx)
	csv := strings.Join(header, ",") + "\n"
	if err := jobs.UploadCSV(ctx, other.PreSignedURL, strings.NewReader(csv), int64(len(csv))); err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.StartImportJob(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	before := len(e.cognito.Calls())
	r := e.run(t, importArgs(dir, "--dry-run")...)
	if r.code != ExitFailure || !strings.Contains(r.stdout, other.ID) {
		t.Errorf("dry run with a running job: exit %d, %s", r.code, r.stdout)
	}
	for _, c := range e.cognito.Calls()[before:] {
		if !strings.HasPrefix(c.Operation, "Describe") && !strings.HasPrefix(c.Operation, "Get") && !strings.HasPrefix(c.Operation, "List") {
			t.Errorf("dry run called %s", c.Operation)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, bulk.StateFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run wrote %s", bulk.StateFile)
	}
}

// map writes old sub -> new sub for every user with the legacy sub, and
// tells the function's moves from the import's by the job's window.
func TestMap(t *testing.T) {
	e := newBulkEnv(t, bulkSettings)
	dir := filepath.Join(t.TempDir(), "export")
	if r := e.run(t, exportArgs(dir)...); r.code != ExitOK {
		t.Fatalf("export: exit %d", r.code)
	}
	if r := e.run(t, importArgs(dir, "--yes")...); r.code != ExitFailure { // admins is missing: left to do
		t.Fatalf("import: exit %d", r.code)
	}
	e.cognito.AddUser(bulkNewPool, cognitotest.User{Username: "newcomer", Enabled: true, Attributes: map[string]string{"email": "n@example.com"}})
	out := filepath.Join(t.TempDir(), "subs.jsonl")
	r := e.run(t, "map", "--user-pool-id", bulkNewPool, "--function-arn", functionARN, "--out", out)
	if r.code != ExitOK {
		t.Fatalf("map: exit %d", r.code)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	newSubs := map[string]string{}
	for _, u := range e.cognito.Users(bulkNewPool) {
		newSubs[u.Username] = u.Attributes["sub"]
	}
	var got []SubMapping
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		got = append(got, readJSON[SubMapping](t, line))
	}
	var want []SubMapping
	for _, name := range []string{"dave", "alice", "bob", "frank", "gina"} {
		moved := MovedByImport
		if name == "dave" {
			moved = MovedByTrigger
		}
		want = append(want, SubMapping{OldSub: "old-sub-" + name, NewSub: newSubs[name], Username: name, Moved: moved})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mapping (-want +got):\n%s", diff)
	}
	if !strings.Contains(r.stdout, "Wrote 5 mappings") || !strings.Contains(r.stdout, "1 have no old sub") {
		t.Errorf("summary %q", r.stdout)
	}

	noLegacy := maps.Clone(bulkSettings)
	delete(noLegacy, settings.EnvLegacySubAttribute)
	e.lambda.SetEnvironment(functionARN, noLegacy)
	other := filepath.Join(t.TempDir(), "none.jsonl")
	r = e.run(t, "map", "--user-pool-id", bulkNewPool, "--function-arn", functionARN, "--out", other)
	if r.code != ExitFailure || !strings.Contains(r.stderr, "LEGACY_SUB_ATTRIBUTE is not set") || !strings.Contains(r.stderr, "custom:legacy_sub") {
		t.Errorf("map without LEGACY_SUB_ATTRIBUTE: exit %d, %q", r.code, r.stderr)
	}
	if _, err := os.Stat(other); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("map without LEGACY_SUB_ATTRIBUTE wrote %s", other)
	}
}

// MIGRATE_ONLY limits the export as it limits the function: a group
// condition reads the old groups.
func TestExportHonoursMigrateOnly(t *testing.T) {
	vars := maps.Clone(bulkSettings)
	vars[settings.EnvMigrateOnly] = "group:staff"
	e := newBulkEnv(t, vars)
	r := e.run(t, exportArgs(filepath.Join(t.TempDir(), "export"))...)
	if r.code != ExitOK {
		t.Fatalf("export: exit %d", r.code)
	}
	res := readJSON[exportResult](t, r.stdout)
	if res.Exported != 2 || res.Skipped[bulk.SkipReason(migrate.OutOfScope)] != 5 {
		t.Errorf("exported %d, skipped %v; want alice and bob exported, the five confirmed users outside staff out of scope", res.Exported, res.Skipped)
	}
}

// The new pool's account recovery must reach an imported user, who has to
// reset their password: with verified_phone_number only, users with just a
// verified email are skipped, as the function declines them at forgot
// password.
func TestExportNeedsARecoveryThatReachesTheUser(t *testing.T) {
	e := newBulkEnv(t, bulkSettings)
	pool := e.cognito.UserPool(bulkNewPool)
	pool["AccountRecoverySetting"] = map[string]any{"RecoveryMechanisms": []any{map[string]any{"Name": "verified_phone_number", "Priority": 1}}}
	b, _ := json.Marshal(map[string]any{"UserPool": pool})
	e.cognito.PutUserPool(b)
	r := e.run(t, exportArgs(filepath.Join(t.TempDir(), "export"))...)
	if r.code != ExitOK {
		t.Fatalf("export: exit %d", r.code)
	}
	res := readJSON[exportResult](t, r.stdout)
	// The shape is judged before the new pool is searched: dave, already
	// there, is counted here too.
	if res.Exported != 1 || res.Skipped[bulk.SkipNoVerifiedContact] != 6 {
		t.Errorf("exported %d, skipped %v; want gina only, alice, bob, dave, erin, frank and judy without a verified phone", res.Exported, res.Skipped)
	}
	if d := functionWouldGive(t, e.cognito, "alice"); d.Migrate {
		t.Errorf("the function migrates alice at forgot password: %+v", d)
	}
}
