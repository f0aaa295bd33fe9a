package cognito

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// ImportJobsAPI is the part of the cognito-idp client the bulk import uses
// on the NEW pool.
type ImportJobsAPI interface {
	GetCSVHeader(ctx context.Context, in *cip.GetCSVHeaderInput, optFns ...func(*cip.Options)) (*cip.GetCSVHeaderOutput, error)
	CreateUserImportJob(ctx context.Context, in *cip.CreateUserImportJobInput, optFns ...func(*cip.Options)) (*cip.CreateUserImportJobOutput, error)
	StartUserImportJob(ctx context.Context, in *cip.StartUserImportJobInput, optFns ...func(*cip.Options)) (*cip.StartUserImportJobOutput, error)
	DescribeUserImportJob(ctx context.Context, in *cip.DescribeUserImportJobInput, optFns ...func(*cip.Options)) (*cip.DescribeUserImportJobOutput, error)
	StopUserImportJob(ctx context.Context, in *cip.StopUserImportJobInput, optFns ...func(*cip.Options)) (*cip.StopUserImportJobOutput, error)
	ListUserImportJobs(ctx context.Context, in *cip.ListUserImportJobsInput, optFns ...func(*cip.Options)) (*cip.ListUserImportJobsOutput, error)
	AdminDisableUser(ctx context.Context, in *cip.AdminDisableUserInput, optFns ...func(*cip.Options)) (*cip.AdminDisableUserOutput, error)
	AdminAddUserToGroup(ctx context.Context, in *cip.AdminAddUserToGroupInput, optFns ...func(*cip.Options)) (*cip.AdminAddUserToGroupOutput, error)
	GetGroup(ctx context.Context, in *cip.GetGroupInput, optFns ...func(*cip.Options)) (*cip.GetGroupOutput, error)
	CreateGroup(ctx context.Context, in *cip.CreateGroupInput, optFns ...func(*cip.Options)) (*cip.CreateGroupOutput, error)
}

// DefaultUploadTimeout bounds one CSV upload when the caller's context does
// not: a pre-signed URL is valid for 15 minutes anyway.
const DefaultUploadTimeout = 14 * time.Minute

// ImportJob is a user import job as the importer sees it (UserImportJobType).
type ImportJob struct {
	ID     string
	Name   string
	Status string
	// PreSignedURL is where the CSV is uploaded. It grants write access for
	// 15 minutes: it is never logged or written to the state file.
	PreSignedURL              string
	Imported, Skipped, Failed int64
	CompletionMessage         string
	CloudWatchLogsRoleArn     string
	// Started and Completed are the job's StartDate and CompletionDate
	// (zero until then).
	Started, Completed time.Time
}

// ImportJobs runs the CSV user import of one pool
// (https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool.html).
// It satisfies the bulk package's ImportAPI and ImportChecker.
type ImportJobs struct {
	api     ImportJobsAPI
	poolID  string
	logsARN string
	http    *http.Client
}

// NewImportJobs returns the import of pool poolID, whose jobs write their
// per-line results to CloudWatch through the role logsRoleARN. A nil
// httpClient uploads with a client of DefaultUploadTimeout.
func NewImportJobs(api ImportJobsAPI, poolID, logsRoleARN string, httpClient *http.Client) *ImportJobs {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: DefaultUploadTimeout}
	}
	return &ImportJobs{api: api, poolID: poolID, logsARN: logsRoleARN, http: httpClient}
}

// CSVHeader returns the pool's import header (GetCSVHeader).
func (j *ImportJobs) CSVHeader(ctx context.Context) ([]string, error) {
	out, err := j.api.GetCSVHeader(ctx, &cip.GetCSVHeaderInput{UserPoolId: aws.String(j.poolID)})
	if err != nil {
		return nil, callError("GetCSVHeader", j.poolID, err)
	}
	if len(out.CSVHeader) == 0 {
		return nil, callError("GetCSVHeader", j.poolID, errors.New("answer has no CSVHeader"))
	}
	return out.CSVHeader, nil
}

func toJob(op, poolID string, t *types.UserImportJobType) (ImportJob, error) {
	if t == nil || aws.ToString(t.JobId) == "" {
		return ImportJob{}, callError(op, poolID, errors.New("answer has no UserImportJob"))
	}
	return ImportJob{
		ID:                    aws.ToString(t.JobId),
		Name:                  aws.ToString(t.JobName),
		Status:                string(t.Status),
		PreSignedURL:          aws.ToString(t.PreSignedUrl),
		Imported:              t.ImportedUsers,
		Skipped:               t.SkippedUsers,
		Failed:                t.FailedUsers,
		CompletionMessage:     aws.ToString(t.CompletionMessage),
		CloudWatchLogsRoleArn: aws.ToString(t.CloudWatchLogsRoleArn),
		Started:               aws.ToTime(t.StartDate),
		Completed:             aws.ToTime(t.CompletionDate),
	}, nil
}

// CreateImportJob creates a job (CreateUserImportJob); its pre-signed URL is
// valid for 15 minutes.
func (j *ImportJobs) CreateImportJob(ctx context.Context, name string) (ImportJob, error) {
	out, err := j.api.CreateUserImportJob(ctx, &cip.CreateUserImportJobInput{
		JobName: aws.String(name), UserPoolId: aws.String(j.poolID), CloudWatchLogsRoleArn: aws.String(j.logsARN)})
	if err != nil {
		return ImportJob{}, callError("CreateUserImportJob", j.poolID, err)
	}
	return toJob("CreateUserImportJob", j.poolID, out.UserImportJob)
}

// StartImportJob starts a job whose CSV was uploaded (StartUserImportJob).
func (j *ImportJobs) StartImportJob(ctx context.Context, jobID string) (ImportJob, error) {
	out, err := j.api.StartUserImportJob(ctx, &cip.StartUserImportJobInput{UserPoolId: aws.String(j.poolID), JobId: aws.String(jobID)})
	if err != nil {
		return ImportJob{}, callError("StartUserImportJob", j.poolID, err)
	}
	return toJob("StartUserImportJob", j.poolID, out.UserImportJob)
}

// DescribeImportJob reads a job (DescribeUserImportJob).
func (j *ImportJobs) DescribeImportJob(ctx context.Context, jobID string) (ImportJob, error) {
	out, err := j.api.DescribeUserImportJob(ctx, &cip.DescribeUserImportJobInput{UserPoolId: aws.String(j.poolID), JobId: aws.String(jobID)})
	if err != nil {
		return ImportJob{}, callError("DescribeUserImportJob", j.poolID, err)
	}
	return toJob("DescribeUserImportJob", j.poolID, out.UserImportJob)
}

// StopImportJob stops a Pending or InProgress job (StopUserImportJob); a
// stopped job cannot be restarted.
func (j *ImportJobs) StopImportJob(ctx context.Context, jobID string) (ImportJob, error) {
	out, err := j.api.StopUserImportJob(ctx, &cip.StopUserImportJobInput{UserPoolId: aws.String(j.poolID), JobId: aws.String(jobID)})
	if err != nil {
		return ImportJob{}, callError("StopUserImportJob", j.poolID, err)
	}
	return toJob("StopUserImportJob", j.poolID, out.UserImportJob)
}

// ListImportJobs lists every job of the pool (ListUserImportJobs, 60 a page),
// for example to check that none is running.
func (j *ImportJobs) ListImportJobs(ctx context.Context) ([]ImportJob, error) {
	var jobs []ImportJob
	var token *string
	for {
		out, err := j.api.ListUserImportJobs(ctx, &cip.ListUserImportJobsInput{
			UserPoolId: aws.String(j.poolID), MaxResults: aws.Int32(60), PaginationToken: token})
		if err != nil {
			return nil, callError("ListUserImportJobs", j.poolID, err)
		}
		for i := range out.UserImportJobs {
			job, err := toJob("ListUserImportJobs", j.poolID, &out.UserImportJobs[i])
			if err != nil {
				return nil, err
			}
			job.PreSignedURL = "" // not needed, and a credential
			jobs = append(jobs, job)
		}
		if aws.ToString(out.PaginationToken) == "" {
			return jobs, nil
		}
		token = out.PaginationToken
	}
}

// UploadError is a failed upload of a CSV to a pre-signed URL. It never
// holds the URL, whose query string is a credential.
type UploadError struct {
	// Status is the HTTP status, 0 when no answer came.
	Status int
	// Code is S3's error code (e.g. "AccessDenied"), when it sent one.
	Code string
	err  error
}

func (e *UploadError) Error() string {
	switch {
	case e.err != nil:
		return "upload CSV: " + e.err.Error()
	case e.Code != "":
		return fmt.Sprintf("upload CSV: HTTP %d %s", e.Status, e.Code)
	}
	return fmt.Sprintf("upload CSV: HTTP %d", e.Status)
}

func (e *UploadError) Unwrap() error { return e.err }

// s3Code finds S3's error code in an XML error body.
func s3Code(body []byte) string {
	_, rest, ok := strings.Cut(string(body), "<Code>")
	code, _, closed := strings.Cut(rest, "</Code>")
	if !ok || !closed || len(code) > 64 || strings.ContainsAny(code, "<> \n") {
		return ""
	}
	return code
}

// UploadCSV PUTs the CSV to the job's pre-signed URL with the header
// x-amz-server-side-encryption: aws:kms, which the URL requires.
func (j *ImportJobs) UploadCSV(ctx context.Context, rawURL string, body io.Reader, size int64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, rawURL, body)
	if err != nil {
		return &UploadError{err: errors.New("the pre-signed URL is not a valid URL")}
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	req.Header.Set("x-amz-server-side-encryption", "aws:kms")
	resp, err := j.http.Do(req)
	if err != nil {
		// *url.Error quotes the URL, signature included: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &UploadError{err: err}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	e := &UploadError{Status: resp.StatusCode}
	e.Code = s3Code(head)
	return e
}

// DisableUser disables a user (AdminDisableUser).
func (j *ImportJobs) DisableUser(ctx context.Context, username string) error {
	if _, err := j.api.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: aws.String(j.poolID), Username: aws.String(username)}); err != nil {
		return callError("AdminDisableUser", j.poolID, err)
	}
	return nil
}

// AddUserToGroup adds a user to an existing group (AdminAddUserToGroup).
func (j *ImportJobs) AddUserToGroup(ctx context.Context, username, group string) error {
	if _, err := j.api.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{
		UserPoolId: aws.String(j.poolID), Username: aws.String(username), GroupName: aws.String(group)}); err != nil {
		return callError("AdminAddUserToGroup", j.poolID, err)
	}
	return nil
}

// GroupExists reports whether the pool has the group (GetGroup).
func (j *ImportJobs) GroupExists(ctx context.Context, group string) (bool, error) {
	_, err := j.api.GetGroup(ctx, &cip.GetGroupInput{UserPoolId: aws.String(j.poolID), GroupName: aws.String(group)})
	var nf *types.ResourceNotFoundException
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &nf):
		return false, nil
	}
	return false, callError("GetGroup", j.poolID, err)
}

// CreateGroup creates a group (CreateGroup). A name that is taken fails with
// GroupExistsException: the group is never replaced.
func (j *ImportJobs) CreateGroup(ctx context.Context, group string) error {
	if _, err := j.api.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: aws.String(j.poolID), GroupName: aws.String(group)}); err != nil {
		return callError("CreateGroup", j.poolID, err)
	}
	return nil
}
