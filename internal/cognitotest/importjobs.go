package cognitotest

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The CSV user import (GetCSVHeader, the import jobs and the pre-signed
// upload) and the user and group calls that follow an import. Cognito's
// behaviour is described in
// https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool.html
// and docs/cognito-behaviour.md; where it is undocumented the fake picks a
// plausible answer, noted [U].

// uploadPath is where the fake's pre-signed URLs point.
const uploadPath = "/_cognitotest/import-upload/"

// uploadValidity is how long a job's pre-signed URL accepts the upload.
const uploadValidity = 15 * time.Minute

// importJobs is the fake's import and group state, guarded by Fake.mu.
type importJobs struct {
	jobs   map[string]*importJob // by job ID
	order  []string              // job IDs in creation order
	groups map[string]map[string]*group
}

type importJob struct {
	userImportJob
	csv       []byte
	uploaded  bool
	urlExpiry time.Time
	lines     []string
	describes int
}

// userImportJob is an import job as the API returns it (UserImportJobType).
type userImportJob struct {
	JobName               string
	JobId                 string
	UserPoolId            string
	PreSignedUrl          string
	CreationDate          float64
	StartDate             float64 `json:",omitempty"`
	CompletionDate        float64 `json:",omitempty"`
	Status                string
	CloudWatchLogsRoleArn string
	ImportedUsers         int64
	SkippedUsers          int64
	FailedUsers           int64
	CompletionMessage     string `json:",omitempty"`
}

type group struct {
	GroupName        string
	UserPoolId       string
	Description      string   `json:",omitempty"`
	RoleArn          string   `json:",omitempty"`
	Precedence       *int64   `json:",omitempty"`
	CreationDate     float64  `json:",omitempty"`
	LastModifiedDate float64  `json:",omitempty"`
	members          []string // usernames
}

func (s *importJobs) init() {
	if s.jobs == nil {
		s.jobs = map[string]*importJob{}
		s.groups = map[string]map[string]*group{}
	}
}

// standardCSVColumns are the standard attributes in GetCSVHeader's order
// (the import documentation's header); sub and identities are never columns.
var standardCSVColumns = []string{
	"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile", "picture",
	"website", "email", "email_verified", "gender", "birthdate", "zoneinfo", "locale", "phone_number",
	"phone_number_verified", "address", "updated_at",
}

// csvHeader is the pool's GetCSVHeader answer: its standard attributes
// (all of them when its schema was never described with PutUserPool), its
// custom: attributes, then cognito:mfa_enabled and cognito:username.
func (f *Fake) csvHeader(poolID string) ([]string, string) {
	desc := f.UserPool(poolID)
	if desc == nil {
		return nil, ""
	}
	mfa, _ := desc["MfaConfiguration"].(string)
	schema, _ := desc["SchemaAttributes"].([]any)
	var names []string
	for _, a := range schema {
		if m, ok := a.(map[string]any); ok {
			if n, _ := m["Name"].(string); n != "" {
				names = append(names, n)
			}
		}
	}
	var header []string
	for _, c := range standardCSVColumns {
		if len(names) == 0 || slices.Contains(names, c) {
			header = append(header, c)
		}
	}
	for _, n := range names {
		if strings.HasPrefix(n, "custom:") {
			header = append(header, n)
		}
	}
	return append(header, "cognito:mfa_enabled", "cognito:username"), mfa
}

func (f *Fake) getCSVHeader(body []byte) (any, *apiError) {
	var in struct{ UserPoolId string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	header, _ := f.csvHeader(in.UserPoolId)
	if header == nil {
		return nil, errorf("ResourceNotFoundException", msgPoolNotFound, in.UserPoolId)
	}
	return map[string]any{"UserPoolId": in.UserPoolId, "CSVHeader": header}, nil
}

func (f *Fake) createUserImportJob(body []byte) (any, *apiError) {
	var in struct{ JobName, UserPoolId, CloudWatchLogsRoleArn string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.JobName == "" || in.CloudWatchLogsRoleArn == "" {
		return nil, errorf("InvalidParameterException", "JobName and CloudWatchLogsRoleArn are required")
	}
	if !strings.HasPrefix(in.CloudWatchLogsRoleArn, "arn:aws:iam::") {
		return nil, errorf("InvalidParameterException", "1 validation error detected: Value at 'cloudWatchLogsRoleArn' failed to satisfy constraint")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pools[in.UserPoolId]; !ok {
		return nil, errorf("ResourceNotFoundException", msgPoolNotFound, in.UserPoolId)
	}
	f.imports.init()
	now := time.Now()
	id := "import-" + randomPart(10)
	j := &importJob{urlExpiry: now.Add(uploadValidity)}
	j.userImportJob = userImportJob{
		JobName: in.JobName, JobId: id, UserPoolId: in.UserPoolId,
		PreSignedUrl:          f.URL + uploadPath + id + "?X-Amz-Signature=" + randomPart(16),
		CreationDate:          epochSeconds(now),
		Status:                "Created",
		CloudWatchLogsRoleArn: in.CloudWatchLogsRoleArn,
	}
	f.imports.jobs[id] = j
	f.imports.order = append(f.imports.order, id)
	return map[string]any{"UserImportJob": j.userImportJob}, nil
}

// serveUpload is the pre-signed URL: a PUT that must carry
// x-amz-server-side-encryption: aws:kms and a Content-Length, within the
// URL's 15 minutes, to a job that is still Created.
func (f *Fake) serveUpload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, uploadPath)
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, Call{Operation: "UploadCSV", Header: r.Header.Clone(), Start: time.Now(), End: time.Now()})
	call := &f.calls[len(f.calls)-1]
	fail := func(status int, code, msg string) {
		call.Status = status
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<Error><Code>%s</Code><Message>%s</Message></Error>", code, msg)
	}
	f.imports.init()
	j := f.imports.jobs[id]
	switch {
	case r.Method != http.MethodPut:
		fail(http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
	case j == nil || !strings.Contains(j.PreSignedUrl, r.URL.RawQuery) || r.URL.RawQuery == "":
		fail(http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
	case time.Now().After(j.urlExpiry):
		fail(http.StatusForbidden, "AccessDenied", "Request has expired")
	case r.Header.Get("X-Amz-Server-Side-Encryption") != "aws:kms":
		fail(http.StatusForbidden, "AccessDenied", "Access Denied")
	case r.ContentLength < 0:
		fail(http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header.")
	case j.Status != "Created":
		fail(http.StatusForbidden, "AccessDenied", "Access Denied")
	default:
		j.csv, j.uploaded = body, true
		call.Status = http.StatusOK
		w.WriteHeader(http.StatusOK)
	}
}

type jobInput struct{ UserPoolId, JobId string }

// job finds a job of a pool; f.mu is held.
func (f *Fake) job(body []byte) (*importJob, *apiError) {
	var in jobInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	f.imports.init()
	if _, ok := f.pools[in.UserPoolId]; !ok {
		return nil, errorf("ResourceNotFoundException", msgPoolNotFound, in.UserPoolId)
	}
	j := f.imports.jobs[in.JobId]
	if j == nil || j.UserPoolId != in.UserPoolId {
		return nil, errorf("ResourceNotFoundException", "Import job %s does not exist.", in.JobId)
	}
	return j, nil
}

// startUserImportJob moves a Created job with an upload to Pending. Only one
// job may be active at a time ([U]: the 2023 guide says per account).
func (f *Fake) startUserImportJob(body []byte) (any, *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, err := f.job(body)
	if err != nil {
		return nil, err
	}
	if !j.uploaded {
		return nil, errorf("PreconditionNotMetException", "No csv file was uploaded for %s", j.JobId)
	}
	if j.Status != "Created" {
		return nil, errorf("PreconditionNotMetException", "Import job %s is %s, not Created.", j.JobId, j.Status)
	}
	for _, o := range f.imports.jobs {
		if o.Status == "Pending" || o.Status == "InProgress" {
			return nil, errorf("PreconditionNotMetException", "Only one import job can be active at a time.")
		}
	}
	j.Status = "Pending"
	j.StartDate = epochSeconds(time.Now())
	j.PreSignedUrl = ""
	return map[string]any{"UserImportJob": j.userImportJob}, nil
}

// describeUserImportJob also moves a started job on, one status per call:
// Pending, InProgress, then the CSV is applied and it ends Succeeded or Failed.
func (f *Fake) describeUserImportJob(body []byte) (any, *apiError) {
	var in jobInput
	_ = decode(body, &in)
	mfa := ""
	if desc := f.UserPool(in.UserPoolId); desc != nil {
		mfa, _ = desc["MfaConfiguration"].(string)
	}
	header, _ := f.csvHeader(in.UserPoolId)
	f.mu.Lock()
	defer f.mu.Unlock()
	j, err := f.job(body)
	if err != nil {
		return nil, err
	}
	switch j.Status {
	case "Pending":
		j.Status = "InProgress"
	case "InProgress":
		f.applyImport(j, header, mfa)
	case "Stopping":
		j.Status = "Stopped"
	}
	return map[string]any{"UserImportJob": j.userImportJob}, nil
}

// applyImport applies the uploaded CSV to the pool; f.mu is held. Rows are
// judged one by one, as CloudWatch reports them: an existing username is
// SKIPPED; a malformed row, an empty or bad cognito:mfa_enabled, or a row
// without a true auto-verified attribute is FAILED; the others become
// RESET_REQUIRED users without a password. A header that is not the pool's
// fails the whole job.
func (f *Fake) applyImport(j *importJob, header []string, mfa string) {
	j.CompletionDate = epochSeconds(time.Now())
	p := f.pools[j.UserPoolId]
	text := strings.TrimSuffix(string(j.csv), "\n")
	lines := strings.Split(text, "\n")
	cols, bad := splitImportLine(lines[0])
	if bad || !sameColumns(cols, header) {
		j.Status = "Failed"
		j.CompletionMessage = "The CSV header does not match the user pool's CSV header."
		return
	}
	for i, line := range lines[1:] {
		n := i + 1 // the first user row is line 1 ([U]: AWS's own export tool counts so)
		result, msg := f.importRow(p, cols, line, mfa)
		j.lines = append(j.lines, fmt.Sprintf("[%s] Line Number %d - %s", result, n, msg))
		switch result {
		case "SUCCEEDED":
			j.ImportedUsers++
		case "SKIPPED":
			j.SkippedUsers++
		default:
			j.FailedUsers++
		}
	}
	// The threshold of Cognito's "too many" is undocumented [U]: here, a job
	// in which no row was imported and some row failed.
	if j.ImportedUsers == 0 && j.FailedUsers > 0 {
		j.Status = "Failed"
		j.CompletionMessage = "Too many users have failed or been skipped during the import."
		return
	}
	j.Status = "Succeeded"
	j.CompletionMessage = "The user import job has completed."
}

func (f *Fake) importRow(p *poolState, cols []string, line, mfa string) (string, string) {
	values, bad := splitImportLine(line)
	if bad || len(values) != len(cols) {
		return "FAILED", "The CSV line could not be parsed."
	}
	row := map[string]string{}
	for i, c := range cols {
		if v := strings.TrimSpace(values[i]); v != "" {
			row[c] = v
		}
	}
	username := row["cognito:username"]
	delete(row, "cognito:username")
	mfaEnabled := strings.ToLower(row["cognito:mfa_enabled"])
	delete(row, "cognito:mfa_enabled")
	switch {
	case username == "" || strings.ContainsAny(username, " \t"):
		return "FAILED", "The cognito:username is missing or invalid."
	case mfaEnabled != "true" && mfaEnabled != "false":
		return "FAILED", "The cognito:mfa_enabled value must be true or false."
	case mfa == "ON" && mfaEnabled != "true", (mfa == "OFF" || mfa == "") && mfaEnabled != "false":
		return "FAILED", "The cognito:mfa_enabled value does not match the user pool's MFA configuration."
	case !(row["email"] != "" && strings.EqualFold(row["email_verified"], "true")) &&
		!(row["phone_number"] != "" && strings.EqualFold(row["phone_number_verified"], "true")):
		return "FAILED", "The User Record does not set any of the auto verified attributes to true. (Example: email_verified to true)."
	case p.lookup(username, false) != nil:
		return "SKIPPED", "The user already exists."
	}
	for _, b := range []string{"email_verified", "phone_number_verified"} {
		if v, ok := row[b]; ok {
			row[b] = strings.ToLower(v)
		}
	}
	row["sub"] = newUUID()
	u := &User{Username: username, Attributes: row, Enabled: true, Status: "RESET_REQUIRED",
		Created: time.Now(), LastModified: time.Now()}
	if len(p.UsernameAttributes) > 0 {
		u.Username = row["sub"] // Cognito names such users itself
	}
	if mfaEnabled == "true" {
		u.MFASettings = []string{"SMS_MFA"}
	}
	p.users = append(p.users, u)
	return "SUCCEEDED", "The import succeeded."
}

// splitImportLine splits a line of Cognito's dialect, independently of the
// bulk package so that the fake checks it: `\,` is a comma inside a value;
// any other backslash is malformed ([U]: Cognito documents only `\,`).
func splitImportLine(line string) ([]string, bool) {
	var out []string
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			if i+1 < len(line) && line[i+1] == ',' {
				b.WriteByte(',')
				i++
				continue
			}
			return nil, true
		}
		if c == ',' {
			out = append(out, b.String())
			b.Reset()
			continue
		}
		b.WriteByte(c)
	}
	return append(out, b.String()), false
}

// sameColumns: every header column present, in any order, nothing else.
func sameColumns(got, want []string) bool {
	a, b := slices.Clone(got), slices.Clone(want)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func (f *Fake) listUserImportJobs(body []byte) (any, *apiError) {
	var in struct {
		UserPoolId      string
		MaxResults      int
		PaginationToken string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.MaxResults < 1 || in.MaxResults > 60 {
		return nil, errorf("InvalidParameterException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 60", in.MaxResults)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pools[in.UserPoolId]; !ok {
		return nil, errorf("ResourceNotFoundException", msgPoolNotFound, in.UserPoolId)
	}
	f.imports.init()
	var ids []string
	for _, id := range f.imports.order {
		if f.imports.jobs[id].UserPoolId == in.UserPoolId {
			ids = append(ids, id)
		}
	}
	start := 0
	if in.PaginationToken != "" {
		start = slices.Index(ids, in.PaginationToken)
		if start < 0 {
			return nil, errorf("InvalidParameterException", "Invalid pagination token.")
		}
	}
	end := min(start+in.MaxResults, len(ids))
	out := map[string]any{}
	jobs := []userImportJob{}
	for _, id := range ids[start:end] {
		jobs = append(jobs, f.imports.jobs[id].userImportJob)
	}
	out["UserImportJobs"] = jobs
	if end < len(ids) {
		out["PaginationToken"] = ids[end]
	}
	return out, nil
}

func (f *Fake) stopUserImportJob(body []byte) (any, *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, err := f.job(body)
	if err != nil {
		return nil, err
	}
	if j.Status != "Pending" && j.Status != "InProgress" {
		return nil, errorf("PreconditionNotMetException", "Import job %s is %s; only a Pending or InProgress job can be stopped.", j.JobId, j.Status)
	}
	j.Status = "Stopping"
	return map[string]any{"UserImportJob": j.userImportJob}, nil
}

// userOf finds a user of a pool by username or alias; f.mu is held.
func (f *Fake) userOf(poolID, username string) (*poolState, *User, *apiError) {
	p, ok := f.pools[poolID]
	if !ok {
		return nil, nil, errorf("ResourceNotFoundException", msgPoolNotFound, poolID)
	}
	u := p.lookup(username, false)
	if u == nil {
		return p, nil, errorf("UserNotFoundException", msgUserNotFound)
	}
	return p, u, nil
}

func (f *Fake) adminDisableUser(body []byte) (any, *apiError) {
	var in struct{ UserPoolId, Username string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, u, err := f.userOf(in.UserPoolId, in.Username)
	if err != nil {
		return nil, err
	}
	u.Enabled = false
	u.LastModified = time.Now()
	return map[string]any{}, nil
}

// groupOf finds a group; f.mu is held.
func (f *Fake) groupOf(poolID, name string) (*group, *apiError) {
	if _, ok := f.pools[poolID]; !ok {
		return nil, errorf("ResourceNotFoundException", msgPoolNotFound, poolID)
	}
	f.imports.init()
	g := f.imports.groups[poolID][name]
	if g == nil {
		return nil, errorf("ResourceNotFoundException", "Group not found.")
	}
	return g, nil
}

// adminAddUserToGroup: the group must exist (groups are never created
// implicitly); adding a member again succeeds ([U]).
func (f *Fake) adminAddUserToGroup(body []byte) (any, *apiError) {
	var in struct{ UserPoolId, Username, GroupName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.groupOf(in.UserPoolId, in.GroupName)
	if err != nil {
		return nil, err
	}
	_, u, err := f.userOf(in.UserPoolId, in.Username)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(g.members, u.Username) {
		g.members = append(g.members, u.Username)
	}
	return map[string]any{}, nil
}

func (f *Fake) getGroup(body []byte) (any, *apiError) {
	var in struct{ UserPoolId, GroupName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.groupOf(in.UserPoolId, in.GroupName)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Group": *g}, nil
}

// createGroup answers GroupExistsException for a name that is taken, as
// Cognito does (cognito-local instead overwrites the group and empties it).
func (f *Fake) createGroup(body []byte) (any, *apiError) {
	var in struct {
		UserPoolId, GroupName, Description, RoleArn string
		Precedence                                  *int64
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.GroupName == "" {
		return nil, errorf("InvalidParameterException", "GroupName is required")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.groupOf(in.UserPoolId, in.GroupName); err == nil {
		return nil, errorf("GroupExistsException", "A group with the name %s already exists.", in.GroupName)
	} else if err.code != "ResourceNotFoundException" || f.pools[in.UserPoolId] == nil {
		return nil, err
	}
	now := epochSeconds(time.Now())
	g := &group{GroupName: in.GroupName, UserPoolId: in.UserPoolId, Description: in.Description,
		RoleArn: in.RoleArn, Precedence: in.Precedence, CreationDate: now, LastModifiedDate: now}
	if f.imports.groups[in.UserPoolId] == nil {
		f.imports.groups[in.UserPoolId] = map[string]*group{}
	}
	f.imports.groups[in.UserPoolId][in.GroupName] = g
	return map[string]any{"Group": *g}, nil
}

// AddGroup adds an empty group to a pool added earlier.
func (f *Fake) AddGroup(poolID, name string) {
	if f.tb != nil {
		f.tb.Helper()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pools[poolID]; !ok {
		f.misuse("cognitotest: AddGroup(%q): unknown pool %q", name, poolID)
	}
	f.imports.init()
	if f.imports.groups[poolID] == nil {
		f.imports.groups[poolID] = map[string]*group{}
	}
	if f.imports.groups[poolID][name] != nil {
		f.misuse("cognitotest: AddGroup(%q): group already exists in pool %q", name, poolID)
	}
	f.imports.groups[poolID][name] = &group{GroupName: name, UserPoolId: poolID}
}

// GroupMembers returns the usernames in a group, sorted, and whether the
// group exists.
func (f *Fake) GroupMembers(poolID, name string) ([]string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.imports.init()
	g := f.imports.groups[poolID][name]
	if g == nil {
		return nil, false
	}
	return slices.Sorted(slices.Values(g.members)), true
}

// Users returns copies of a pool's users, in the order they were added.
func (f *Fake) Users(poolID string) []User {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.pools[poolID]
	if p == nil {
		return nil
	}
	out := make([]User, 0, len(p.users))
	for _, u := range p.users {
		c := *u
		c.Attributes = make(map[string]string, len(u.Attributes))
		for k, v := range u.Attributes {
			c.Attributes[k] = v
		}
		c.MFASettings = slices.Clone(u.MFASettings)
		out = append(out, c)
	}
	return out
}

// ImportJobLines returns the per-line results of an ended import job, as
// Cognito writes them to CloudWatch ("[SKIPPED] Line Number 2 - The user
// already exists."), and the CSV that was uploaded.
func (f *Fake) ImportJobLines(jobID string) (lines []string, csv []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.imports.init()
	j := f.imports.jobs[jobID]
	if j == nil {
		return nil, nil
	}
	return slices.Clone(j.lines), slices.Clone(j.csv)
}

// ExpireImportUpload makes a job's pre-signed URL refuse uploads, as it
// does 15 minutes after CreateUserImportJob.
func (f *Fake) ExpireImportUpload(jobID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.imports.init()
	if j := f.imports.jobs[jobID]; j != nil {
		j.urlExpiry = time.Time{}
	}
}
