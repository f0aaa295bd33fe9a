package bulk

import (
	"context"
	"fmt"
	"slices"
)

// ImportChecker is what CheckImport reads from the new pool.
type ImportChecker interface {
	// CSVHeader is GetCSVHeader.
	CSVHeader(ctx context.Context) ([]string, error)
	// ListImportJobs is every job of the pool (ListUserImportJobs).
	ListImportJobs(ctx context.Context) ([]Job, error)
}

// CheckImport is the import's dry run: it changes nothing and returns the
// problems that would stop the import of dir, each saying what to do:
// an unfinished or altered export, a header that is no longer the new
// pool's (its schema changed since the export), a file over Cognito's
// limits, or another import job still running (Cognito runs one at a time).
// An error is a failure to check.
func CheckImport(ctx context.Context, c ImportChecker, dir string) ([]string, error) {
	exp, err := ReadExport(dir)
	if err != nil {
		return []string{err.Error()}, nil
	}
	var problems []string
	header, err := c.CSVHeader(ctx)
	if err != nil {
		return nil, err
	}
	a, b := slices.Clone(header), slices.Clone(exp.Header)
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		problems = append(problems, fmt.Sprintf("the new pool's CSV header is no longer the one %s was exported with (the schema changed): export again into a new directory", dir))
	}
	for _, f := range exp.Files {
		if f.Users > DefaultMaxUsersPerFile || f.Bytes > DefaultMaxBytesPerFile {
			problems = append(problems, fmt.Sprintf("%s holds %d users in %d bytes, over Cognito's limit of %d users and %d bytes per file: export again", f.CSV, f.Users, f.Bytes, DefaultMaxUsersPerFile, DefaultMaxBytesPerFile))
		}
	}
	st, err := LoadState(dir)
	if err != nil {
		return nil, err
	}
	ours := map[string]bool{}
	for _, fs := range st.Files {
		ours[fs.JobID] = true
	}
	jobs, err := c.ListImportJobs(ctx)
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		if (j.Status == JobPending || j.Status == JobInProgress || j.Status == JobStopping) && !ours[j.ID] {
			problems = append(problems, fmt.Sprintf("import job %s (%s) is %s: Cognito runs one import at a time; wait for it to end or stop it", j.ID, j.Name, j.Status))
		}
	}
	return problems, nil
}

// LogGroup is the CloudWatch Logs group where Cognito writes an import
// job's per-line results ("[FAILED] Line Number 5 - ..."); each job writes
// to the stream "<JOB_ID>/<JOB_NAME>"
// (https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-cloudwatch.html).
func LogGroup(poolID, poolName string) string {
	return "/aws/cognito/userpools/" + poolID + "/" + poolName
}
