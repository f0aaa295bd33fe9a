package bulk_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/cognito-migrate/cognito-migrate/internal/awserr"
	"github.com/cognito-migrate/cognito-migrate/internal/bulk"
	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
)

const (
	importNewPool = "eu-west-1_NewPool1"
	importRole    = "arn:aws:iam::111122223333:role/CognitoImportLogs"
)

func copyShape(u migrate.User) (bulk.Row, bulk.SkipReason) {
	return bulk.Row{Username: u.Username, Attributes: migrate.Transferable(u.Attributes)}, ""
}

func oldUser(name string, enabled bool, attrs ...string) migrate.User {
	u := migrate.User{Username: name, Enabled: enabled, Status: migrate.StatusConfirmed,
		Attributes: map[string]string{"sub": "old-" + name, "email": name + "@example.com", "email_verified": "true"}}
	for i := 0; i+1 < len(attrs); i += 2 {
		u.Attributes[attrs[i]] = attrs[i+1]
	}
	return u
}

// Export, then import through the adapter into the wire fake: every
// eligible user arrives RESET_REQUIRED with their attributes, disabled
// users are disabled, memberships are the old ones, and a second run
// changes nothing.
func TestImportJobsEndToEnd(t *testing.T) {
	f := cognitotest.New(t)
	f.AddPool(cognitotest.Pool{ID: importNewPool})
	f.AddUser(importNewPool, cognitotest.User{Username: "dave", Enabled: true, Attributes: map[string]string{"email": "dave@example.com", "email_verified": "true"}})
	f.AddGroup(importNewPool, "staff")
	jobs := cognito.NewImportJobs(f.Client(), importNewPool, importRole, nil)
	ctx := context.Background()

	header, err := jobs.CSVHeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "export")
	exp, err := bulk.NewExporter(dir, bulk.ExportOptions{Header: header, PoolMFA: bulk.MFAOff, Shape: copyShape, MaxUsersPerFile: 2})
	if err != nil {
		t.Fatal(err)
	}
	users := []struct {
		u      migrate.User
		groups []string
	}{
		{oldUser("alice", true, "name", "Smith, Alice", "phone_number", "+0044123"), []string{"staff", "admins"}},
		{oldUser("bob", false), []string{"staff"}},
		{oldUser("carol", true, "name", `C:\Users`), nil}, // skipped: backslash
		{oldUser("dave", true), []string{"staff"}},        // already there: the import skips him
		{oldUser("erin", true, "locale", "fr"), nil},
	}
	for _, u := range users {
		if err := exp.Add(u.u, u.groups); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := exp.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Exported != 4 || sum.Skipped[bulk.SkipUnrepresentable] != 1 || len(sum.Files) != 2 {
		t.Fatalf("export summary %+v", sum)
	}

	im := &bulk.Importer{API: jobs, Dir: dir, PollInterval: time.Millisecond, CreateMissingGroups: true}
	st, err := im.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var imported, skipped int64
	for _, fs := range st.Files {
		if !fs.Done || fs.JobStatus != bulk.JobSucceeded {
			t.Errorf("%s: done %v, status %s (%s)", fs.CSV, fs.Done, fs.JobStatus, fs.CompletionMessage)
		}
		imported += fs.Imported
		skipped += fs.Skipped
	}
	if imported != 3 || skipped != 1 {
		t.Errorf("imported %d, skipped %d; want 3 and 1", imported, skipped)
	}

	type got struct {
		Status  string
		Enabled bool
		Attrs   map[string]string
	}
	byName := map[string]got{}
	for _, u := range f.Users(importNewPool) {
		a := u.Attributes
		delete(a, "sub")
		byName[u.Username] = got{u.Status, u.Enabled, a}
	}
	want := map[string]got{
		"alice": {"RESET_REQUIRED", true, map[string]string{"name": "Smith, Alice", "email": "alice@example.com", "email_verified": "true", "phone_number": "+0044123"}},
		"bob":   {"RESET_REQUIRED", false, map[string]string{"email": "bob@example.com", "email_verified": "true"}},
		"dave":  {"CONFIRMED", true, map[string]string{"email": "dave@example.com", "email_verified": "true"}},
		"erin":  {"RESET_REQUIRED", true, map[string]string{"email": "erin@example.com", "email_verified": "true", "locale": "fr"}},
	}
	if diff := cmp.Diff(want, byName); diff != "" {
		t.Errorf("new pool (-want +got):\n%s", diff)
	}
	for g, members := range map[string][]string{"staff": {"alice", "bob", "dave"}, "admins": {"alice"}} {
		if got, _ := f.GroupMembers(importNewPool, g); !slices.Equal(got, members) {
			t.Errorf("group %s: %v, want %v", g, got, members)
		}
	}
	for _, c := range f.Calls() {
		if c.Operation == "UploadCSV" && c.Header.Get("X-Amz-Server-Side-Encryption") != "aws:kms" {
			t.Errorf("upload without the encryption header: %v", c.Header)
		}
		if c.Operation == "CreateGroup" && c.Input["GroupName"] == "staff" {
			t.Error("the existing staff group was created again")
		}
	}

	before := len(f.Calls())
	if _, err := im.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Calls()) - before; n != 0 {
		t.Errorf("second run made %d calls", n)
	}

	listed, err := jobs.ListImportJobs(ctx)
	if err != nil || len(listed) != 2 {
		t.Errorf("ListImportJobs = %d jobs, %v; want 2", len(listed), err)
	}
}

func TestImportJobsErrors(t *testing.T) {
	f := cognitotest.New(t)
	f.AddPool(cognitotest.Pool{ID: importNewPool})
	f.AddGroup(importNewPool, "staff")
	jobs := cognito.NewImportJobs(f.Client(), importNewPool, importRole, nil)
	ctx := context.Background()

	ok, err := jobs.GroupExists(ctx, "staff")
	if err != nil || !ok {
		t.Errorf("GroupExists(staff) = %v, %v", ok, err)
	}
	ok, err = jobs.GroupExists(ctx, "ops")
	if err != nil || ok {
		t.Errorf("GroupExists(ops) = %v, %v", ok, err)
	}
	err = jobs.CreateGroup(ctx, "staff")
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "GroupExistsException" || !strings.Contains(err.Error(), "cognito-idp:CreateGroup") {
		t.Errorf("CreateGroup(staff) = %v, want GroupExistsException named by its operation", err)
	}
	err = jobs.DisableUser(ctx, "nobody")
	if !errors.As(err, &ae) || ae.ErrorCode() != "UserNotFoundException" || !strings.Contains(err.Error(), "cognito-idp:AdminDisableUser") {
		t.Errorf("DisableUser(nobody) = %v", err)
	}
	f.SetFault("DescribeUserImportJob", cognitotest.Fault{ErrorType: "TooManyRequestsException", Message: "Rate exceeded"})
	_, err = jobs.DescribeImportJob(ctx, "import-x")
	if !bulk.Throttled(err) || !errors.Is(err, awserr.ErrThrottled) {
		t.Errorf("throttled DescribeImportJob = %v, want it recognised as throttling", err)
	}

	// A failed upload never shows the pre-signed URL.
	job, err := jobs.CreateImportJob(ctx, "j")
	if err != nil {
		t.Fatal(err)
	}
	err = jobs.UploadCSV(ctx, job.PreSignedURL+"tampered", strings.NewReader("x"), 1)
	var ue *cognito.UploadError
	if !errors.As(err, &ue) || ue.Status != http.StatusForbidden || ue.Code != "SignatureDoesNotMatch" {
		t.Errorf("upload with a bad signature = %v", err)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL + "/upload?X-Amz-Signature=secretsig"
	dead.Close()
	err = jobs.UploadCSV(ctx, deadURL, strings.NewReader("x"), 1)
	if err == nil || strings.Contains(err.Error(), "secretsig") {
		t.Errorf("upload to a dead server = %v; want an error without the URL", err)
	}
}
