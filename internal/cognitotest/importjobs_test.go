package cognitotest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/go-cmp/cmp"
)

const (
	importPool = "eu-west-1_NewPool1"
	logsRole   = "arn:aws:iam::111122223333:role/CognitoImportLogs"
)

var fullHeader = "name,given_name,family_name,middle_name,nickname,preferred_username,profile,picture,website,email,email_verified,gender,birthdate,zoneinfo,locale,phone_number,phone_number_verified,address,updated_at,cognito:mfa_enabled,cognito:username"

func TestGetCSVHeader(t *testing.T) {
	f := New(t)
	f.AddPool(Pool{ID: importPool})
	f.PutUserPool([]byte(`{"UserPool":{"Id":"eu-west-1_Schema1","MfaConfiguration":"OPTIONAL","SchemaAttributes":[
		{"Name":"sub"},{"Name":"email"},{"Name":"email_verified"},{"Name":"custom:legacy_sub"},{"Name":"name"},{"Name":"identities"}]}}`))
	c := f.Client()
	ctx := context.Background()

	out, err := c.GetCSVHeader(ctx, &cip.GetCSVHeaderInput{UserPoolId: aws.String(importPool)})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(out.CSVHeader, ","); got != fullHeader || aws.ToString(out.UserPoolId) != importPool {
		t.Errorf("GetCSVHeader(%s) = %s, %q; want %s", importPool, aws.ToString(out.UserPoolId), got, fullHeader)
	}
	out, err = c.GetCSVHeader(ctx, &cip.GetCSVHeaderInput{UserPoolId: aws.String("eu-west-1_Schema1")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"name", "email", "email_verified", "custom:legacy_sub", "cognito:mfa_enabled", "cognito:username"}
	if diff := cmp.Diff(want, out.CSVHeader); diff != "" {
		t.Errorf("GetCSVHeader of a described schema (-want +got):\n%s", diff)
	}
	_, err = c.GetCSVHeader(ctx, &cip.GetCSVHeaderInput{UserPoolId: aws.String("eu-west-1_Nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("GetCSVHeader of an unknown pool = %v, want ResourceNotFoundException", err)
	}
}

func put(t *testing.T, f *Fake, url, body string, sse bool) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if sse {
		req.Header.Set("x-amz-server-side-encryption", "aws:kms")
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func csvRow(fields map[string]string) string {
	cols := strings.Split(fullHeader, ",")
	vals := make([]string, len(cols))
	for i, c := range cols {
		vals[i] = fields[c]
	}
	return strings.Join(vals, ",")
}

func TestImportJobAppliesCSV(t *testing.T) {
	f := New(t)
	f.AddPool(Pool{ID: importPool})
	f.AddUser(importPool, User{Username: "dave", Enabled: true, Attributes: map[string]string{"email": "dave@example.com"}})
	c := f.Client()
	ctx := context.Background()

	created, err := c.CreateUserImportJob(ctx, &cip.CreateUserImportJobInput{
		JobName: aws.String("cut-over-1"), UserPoolId: aws.String(importPool), CloudWatchLogsRoleArn: aws.String(logsRole)})
	if err != nil {
		t.Fatal(err)
	}
	job := created.UserImportJob
	if job.Status != types.UserImportJobStatusTypeCreated || !strings.HasPrefix(aws.ToString(job.JobId), "import-") ||
		!strings.HasPrefix(aws.ToString(job.PreSignedUrl), f.URL) || aws.ToString(job.CloudWatchLogsRoleArn) != logsRole {
		t.Fatalf("CreateUserImportJob = %+v", job)
	}
	id := job.JobId

	_, err = c.StartUserImportJob(ctx, &cip.StartUserImportJobInput{UserPoolId: aws.String(importPool), JobId: id})
	var pre *types.PreconditionNotMetException
	if !errors.As(err, &pre) {
		t.Errorf("StartUserImportJob before the upload = %v, want PreconditionNotMetException", err)
	}

	csv := fullHeader + "\n" +
		csvRow(map[string]string{"name": `Smith\, Alice`, "email": "alice@example.com", "email_verified": "true", "cognito:mfa_enabled": "false", "cognito:username": "alice"}) + "\n" +
		csvRow(map[string]string{"phone_number": "+0044123", "phone_number_verified": "TRUE", "cognito:mfa_enabled": "false", "cognito:username": "bob"}) + "\n" +
		csvRow(map[string]string{"email": "dave@example.com", "email_verified": "true", "cognito:mfa_enabled": "false", "cognito:username": "dave"}) + "\n" +
		csvRow(map[string]string{"email": "erin@example.com", "email_verified": "false", "cognito:mfa_enabled": "false", "cognito:username": "erin"}) + "\n" +
		csvRow(map[string]string{"email": "frank@example.com", "email_verified": "true", "cognito:mfa_enabled": "", "cognito:username": "frank"}) + "\n" +
		`bad\line` + "\n"

	if got := put(t, f, aws.ToString(job.PreSignedUrl), csv, false); got != http.StatusForbidden {
		t.Errorf("PUT without x-amz-server-side-encryption = %d, want 403", got)
	}
	if got := put(t, f, aws.ToString(job.PreSignedUrl), csv, true); got != http.StatusOK {
		t.Fatalf("PUT = %d, want 200", got)
	}
	if _, err := c.StartUserImportJob(ctx, &cip.StartUserImportJobInput{UserPoolId: aws.String(importPool), JobId: id}); err != nil {
		t.Fatal(err)
	}
	var statuses []types.UserImportJobStatusType
	var last *types.UserImportJobType
	for range 5 {
		out, err := c.DescribeUserImportJob(ctx, &cip.DescribeUserImportJobInput{UserPoolId: aws.String(importPool), JobId: id})
		if err != nil {
			t.Fatal(err)
		}
		last = out.UserImportJob
		statuses = append(statuses, last.Status)
		if last.Status == types.UserImportJobStatusTypeSucceeded {
			break
		}
	}
	if diff := cmp.Diff([]types.UserImportJobStatusType{"InProgress", "Succeeded"}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if last.ImportedUsers != 2 || last.SkippedUsers != 1 || last.FailedUsers != 3 || aws.ToString(last.CloudWatchLogsRoleArn) != logsRole {
		t.Errorf("job ended %+v; want 2 imported, 1 skipped, 3 failed, the role echoed", last)
	}
	lines, _ := f.ImportJobLines(aws.ToString(id))
	want := []string{
		"[SUCCEEDED] Line Number 1 - The import succeeded.",
		"[SUCCEEDED] Line Number 2 - The import succeeded.",
		"[SKIPPED] Line Number 3 - The user already exists.",
		"[FAILED] Line Number 4 - The User Record does not set any of the auto verified attributes to true. (Example: email_verified to true).",
		"[FAILED] Line Number 5 - The cognito:mfa_enabled value must be true or false.",
		"[FAILED] Line Number 6 - The CSV line could not be parsed.",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("line results (-want +got):\n%s", diff)
	}

	u, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(importPool), Username: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string]string{}
	for _, a := range u.UserAttributes {
		attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	if u.UserStatus != types.UserStatusTypeResetRequired || !u.Enabled || attrs["name"] != "Smith, Alice" || attrs["sub"] == "" {
		t.Errorf("imported alice: status %s, enabled %v, attributes %v", u.UserStatus, u.Enabled, attrs)
	}
	bob := f.Users(importPool)
	if got := bob[len(bob)-1].Attributes["phone_number"]; got != "+0044123" {
		t.Errorf("bob's phone number = %q, want it kept as text", got)
	}

	// A second upload to a started job is refused.
	if got := put(t, f, aws.ToString(job.PreSignedUrl), csv, true); got == http.StatusOK {
		t.Error("PUT to a started job succeeded")
	}
	if calls := f.CallCount("UploadCSV"); calls != 3 {
		t.Errorf("%d uploads recorded, want 3", calls)
	}
}

func TestImportJobUploadRules(t *testing.T) {
	f := New(t)
	f.AddPool(Pool{ID: importPool})
	c := f.Client()
	ctx := context.Background()
	create := func() *types.UserImportJobType {
		out, err := c.CreateUserImportJob(ctx, &cip.CreateUserImportJobInput{
			JobName: aws.String("j"), UserPoolId: aws.String(importPool), CloudWatchLogsRoleArn: aws.String(logsRole)})
		if err != nil {
			t.Fatal(err)
		}
		return out.UserImportJob
	}
	j := create()
	f.ExpireImportUpload(aws.ToString(j.JobId))
	if got := put(t, f, aws.ToString(j.PreSignedUrl), fullHeader+"\n", true); got != http.StatusForbidden {
		t.Errorf("PUT after the URL expired = %d, want 403", got)
	}
	j = create()
	if got := put(t, f, strings.Split(aws.ToString(j.PreSignedUrl), "?")[0], fullHeader+"\n", true); got != http.StatusForbidden {
		t.Errorf("PUT without the signature = %d, want 403", got)
	}
	_, err := c.CreateUserImportJob(ctx, &cip.CreateUserImportJobInput{JobName: aws.String("j"), UserPoolId: aws.String(importPool)})
	if err == nil {
		t.Error("CreateUserImportJob without a CloudWatch role succeeded")
	}

	// A header that is not the pool's fails the job.
	if got := put(t, f, aws.ToString(j.PreSignedUrl), "\ufeff"+fullHeader+"\n", true); got != http.StatusOK {
		t.Fatalf("PUT = %d", got)
	}
	if _, err := c.StartUserImportJob(ctx, &cip.StartUserImportJobInput{UserPoolId: aws.String(importPool), JobId: j.JobId}); err != nil {
		t.Fatal(err)
	}
	// One active job at a time.
	k := create()
	put(t, f, aws.ToString(k.PreSignedUrl), fullHeader+"\n", true)
	_, err = c.StartUserImportJob(ctx, &cip.StartUserImportJobInput{UserPoolId: aws.String(importPool), JobId: k.JobId})
	var pre *types.PreconditionNotMetException
	if !errors.As(err, &pre) {
		t.Errorf("a second active job = %v, want PreconditionNotMetException", err)
	}
	var out *cip.DescribeUserImportJobOutput
	for range 2 {
		if out, err = c.DescribeUserImportJob(ctx, &cip.DescribeUserImportJobInput{UserPoolId: aws.String(importPool), JobId: j.JobId}); err != nil {
			t.Fatal(err)
		}
	}
	if out.UserImportJob.Status != types.UserImportJobStatusTypeFailed {
		t.Errorf("job with a BOM before the header ended %s, want Failed", out.UserImportJob.Status)
	}

	// Stop.
	if _, err := c.StartUserImportJob(ctx, &cip.StartUserImportJobInput{UserPoolId: aws.String(importPool), JobId: k.JobId}); err != nil {
		t.Fatal(err)
	}
	stop, err := c.StopUserImportJob(ctx, &cip.StopUserImportJobInput{UserPoolId: aws.String(importPool), JobId: k.JobId})
	if err != nil || stop.UserImportJob.Status != types.UserImportJobStatusTypeStopping {
		t.Fatalf("StopUserImportJob = %v, %v", stop, err)
	}
	d, _ := c.DescribeUserImportJob(ctx, &cip.DescribeUserImportJobInput{UserPoolId: aws.String(importPool), JobId: k.JobId})
	if d.UserImportJob.Status != types.UserImportJobStatusTypeStopped {
		t.Errorf("stopped job is %s", d.UserImportJob.Status)
	}
	if _, err := c.StopUserImportJob(ctx, &cip.StopUserImportJobInput{UserPoolId: aws.String(importPool), JobId: k.JobId}); !errors.As(err, &pre) {
		t.Errorf("stopping a stopped job = %v, want PreconditionNotMetException", err)
	}

	// List, paginated.
	var ids []string
	var token *string
	for {
		page, err := c.ListUserImportJobs(ctx, &cip.ListUserImportJobsInput{UserPoolId: aws.String(importPool), MaxResults: aws.Int32(1), PaginationToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range page.UserImportJobs {
			ids = append(ids, aws.ToString(j.JobId))
		}
		if token = page.PaginationToken; token == nil {
			break
		}
	}
	if len(ids) != 3 {
		t.Errorf("listed %v, want 3 jobs", ids)
	}
	_, err = c.ListUserImportJobs(ctx, &cip.ListUserImportJobsInput{UserPoolId: aws.String(importPool), MaxResults: aws.Int32(61)})
	var inv *types.InvalidParameterException
	if !errors.As(err, &inv) {
		t.Errorf("ListUserImportJobs(MaxResults=61) = %v, want InvalidParameterException", err)
	}
}

func TestGroupsAndDisable(t *testing.T) {
	f := New(t)
	f.AddPool(Pool{ID: importPool})
	f.AddUser(importPool, User{Username: "alice", Enabled: true})
	f.AddGroup(importPool, "staff")
	c := f.Client()
	ctx := context.Background()
	pool := aws.String(importPool)

	_, err := c.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pool, GroupName: aws.String("staff")})
	var exists *types.GroupExistsException
	if !errors.As(err, &exists) {
		t.Errorf("CreateGroup(staff) = %v, want GroupExistsException", err)
	}
	_, err = c.GetGroup(ctx, &cip.GetGroupInput{UserPoolId: pool, GroupName: aws.String("ops")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("GetGroup(ops) = %v, want ResourceNotFoundException", err)
	}
	_, err = c.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: pool, Username: aws.String("alice"), GroupName: aws.String("ops")})
	if !errors.As(err, &nf) {
		t.Errorf("AdminAddUserToGroup to a missing group = %v, want ResourceNotFoundException", err)
	}
	if _, err := c.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pool, GroupName: aws.String("ops"), Description: aws.String("Operators")}); err != nil {
		t.Fatal(err)
	}
	g, err := c.GetGroup(ctx, &cip.GetGroupInput{UserPoolId: pool, GroupName: aws.String("ops")})
	if err != nil || aws.ToString(g.Group.Description) != "Operators" {
		t.Fatalf("GetGroup(ops) = %v, %v", g, err)
	}
	for range 2 { // adding again succeeds
		if _, err := c.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: pool, Username: aws.String("alice"), GroupName: aws.String("ops")}); err != nil {
			t.Fatal(err)
		}
	}
	if m, _ := f.GroupMembers(importPool, "ops"); !cmp.Equal(m, []string{"alice"}) {
		t.Errorf("ops members %v, want [alice]", m)
	}
	_, err = c.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: pool, Username: aws.String("nobody"), GroupName: aws.String("ops")})
	var unf *types.UserNotFoundException
	if !errors.As(err, &unf) {
		t.Errorf("AdminAddUserToGroup(nobody) = %v, want UserNotFoundException", err)
	}
	if _, err := c.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: pool, Username: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	if u := f.Users(importPool)[0]; u.Enabled {
		t.Error("alice is still enabled")
	}
	if _, err := c.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: pool, Username: aws.String("nobody")}); !errors.As(err, &unf) {
		t.Errorf("AdminDisableUser(nobody) = %v, want UserNotFoundException", err)
	}
}
