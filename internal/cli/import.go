package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/cognito-migrate/cognito-migrate/internal/bulk"
	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
	"github.com/cognito-migrate/cognito-migrate/internal/settings"
)

type importOptions struct {
	twoPoolOptions
	From                string
	LogsRoleARN         string
	Yes                 bool
	CreateMissingGroups bool
}

func newImportCmd(a *app) *command {
	// The function's CREATE_MISSING_GROUPS is about the groups the trigger
	// copies; import's own --create-missing-groups takes the flag's name.
	opts := &importOptions{}
	opts.noFlag = []string{settings.EnvCreateMissingGroups}
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.StringVar(&opts.From, "from", "", "the export `DIR` written by cognito-migrate export (required)")
	fs.StringVar(&opts.LogsRoleARN, "cloudwatch-logs-role-arn", "", "the IAM role `ARN` Cognito writes the jobs' per-line results to CloudWatch Logs with (required)")
	fs.BoolVar(&opts.Yes, "yes", false, "import without asking for confirmation (required without a terminal)")
	fs.BoolVar(&opts.CreateMissingGroups, "create-missing-groups", false, "create the old groups the new pool lacks (an existing group is never created again)")
	opts.register(fs)
	opts.registerDryRun(fs)
	c := &command{
		name:     "import",
		summary:  "import an export into the new pool, resumably",
		synopsis: "--user-pool-id ID --from DIR --cloudwatch-logs-role-arn ARN [--yes] [--dry-run] [--create-missing-groups] [flags]",
		description: `
Imports each CSV file of an export into the NEW pool: CreateUserImportJob, upload to
the job's pre-signed URL (PUT, x-amz-server-side-encryption: aws:kms), StartUserImportJob,
then DescribeUserImportJob until the job ends (a progress bar on a terminal). Then,
from the file's manifest, it does what the CSV cannot: AdminDisableUser for the users
disabled in the old pool, and AdminAddUserToGroup for their old groups (a group the
new pool lacks is created only with --create-missing-groups; an existing group is
never created again). Before either, the new user is read (AdminGetUser) and must be
the exported one: with LEGACY_SUB_ATTRIBUTE, its value is the old sub; without it, the
user is still RESET_REQUIRED, as the import left them. Anyone else who took the
username since the export is left alone and counted.

Imported users have status RESET_REQUIRED and no password; Cognito sends them no
message. They must reset their password (forgot password) at their next sign-in.

Resumable: DIR/import-state.json records each job and each step done. Run the same
command again after a crash, Ctrl-C or failure: it continues where it stopped and
never starts a second import of a file. Calls stay under Cognito's quotas (5 per
second for the import-job calls, 25 per second for AdminDisableUser and
AdminAddUserToGroup) and throttling is retried with backoff.

It asks for confirmation on a terminal unless --yes; without a terminal --yes is
required. --dry-run checks everything (the export is complete and unchanged, the new
pool's CSV header is the one exported, the files are within Cognito's limits, no other
import job is running, the role ARN) and changes nothing.`,
		footer: `
IAM: on the new pool cognito-idp:DescribeUserPool, GetCSVHeader, ListUserImportJobs,
CreateUserImportJob, StartUserImportJob, DescribeUserImportJob, AdminGetUser,
AdminDisableUser, GetGroup, AdminAddUserToGroup (and CreateGroup with
--create-missing-groups); iam:PassRole on the CloudWatch Logs role;
lambda:GetFunctionConfiguration on the function. The role trusts
cognito-idp.amazonaws.com and may write to log groups /aws/cognito/*.

Exit status: 0 done, 1 failed or something left to do (the summary says what; run
again to continue), 2 usage error.`,
		flags: fs,
	}
	c.run = func(ctx context.Context) error {
		if err := opts.validate(c.name); err != nil {
			return err
		}
		if opts.From == "" {
			return usagef(c.name, "--from is required")
		}
		if opts.LogsRoleARN == "" {
			return usagef(c.name, "--cloudwatch-logs-role-arn is required: the IAM role Cognito writes the per-line results with")
		}
		if err := checkRoleARN(opts.LogsRoleARN); err != nil {
			return usagef(c.name, "--cloudwatch-logs-role-arn: %v", err)
		}
		res := &importResult{From: opts.From, DryRun: opts.DryRun, Files: []importFile{}}
		err := a.importUsers(ctx, opts, res)
		return a.finish(opts.Output, res, err)
	}
	return c
}

// checkRoleARN accepts an IAM role ARN.
func checkRoleARN(s string) error {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") || a.AccountID == "" {
		return fmt.Errorf("%q is not an IAM role ARN, e.g. arn:aws:iam::111122223333:role/CognitoImportLogs", s)
	}
	return nil
}

// importResult is what import reports.
type importResult struct {
	From   string       `json:"from"`
	DryRun bool         `json:"dryRun"`
	Files  []importFile `json:"files"`
	// Problems are what stops the import (--dry-run or not).
	Problems []string `json:"problems,omitempty"`
	// Totals over the files.
	Imported         int64    `json:"imported"`
	Skipped          int64    `json:"skipped"`
	Failed           int64    `json:"failed"`
	DisabledAgain    int      `json:"disabledAgain"`
	MembershipsAdded int      `json:"membershipsAdded"`
	GroupsCreated    []string `json:"groupsCreated,omitempty"`
	// LeftToDo says what the operator still has to do, one sentence each.
	LeftToDo []string     `json:"leftToDo"`
	Warnings []string     `json:"warnings,omitempty"`
	Error    *errorResult `json:"error,omitempty"`
}

// importFile is one CSV file's import.
type importFile struct {
	CSV       string `json:"csv"`
	Users     int    `json:"users"`
	JobID     string `json:"jobId,omitempty"`
	JobStatus string `json:"jobStatus,omitempty"`
	Imported  int64  `json:"imported"`
	Skipped   int64  `json:"skipped"`
	Failed    int64  `json:"failed"`
	// LogGroup and LogStream are where Cognito wrote the job's per-line
	// results.
	LogGroup          string `json:"logGroup,omitempty"`
	LogStream         string `json:"logStream,omitempty"`
	CompletionMessage string `json:"completionMessage,omitempty"`
	DisabledAgain     int    `json:"disabledAgain"`
	MembershipsAdded  int    `json:"membershipsAdded"`
	MembershipsLeft   int    `json:"membershipsLeft"`
	// NotSamePerson counts lines whose username someone else holds now.
	NotSamePerson int  `json:"notSamePerson"`
	Done          bool `json:"done"`
}

func (r *importResult) warnings() []string      { return r.Warnings }
func (r *importResult) setError(e *errorResult) { r.Error = e }

func (r *importResult) printText(w io.Writer) {
	if len(r.Problems) > 0 {
		fmt.Fprintf(w, "The import of %s cannot start:\n", r.From)
		for _, p := range r.Problems {
			fmt.Fprintf(w, "  - %s\n", p)
		}
		return
	}
	started := false
	for _, f := range r.Files {
		started = started || f.JobID != ""
	}
	if r.Error != nil && !started {
		fmt.Fprintln(w, "Nothing was imported.")
		return
	}
	if r.DryRun {
		fmt.Fprintf(w, "Dry run: %s can be imported (%d files); nothing was changed.\n", r.From, len(r.Files))
		for _, f := range r.Files {
			fmt.Fprintf(w, "  %s  %d users\n", f.CSV, f.Users)
		}
		return
	}
	for _, f := range r.Files {
		status := f.JobStatus
		if status == "" {
			status = "not started"
		}
		fmt.Fprintf(w, "%s: job %s %s: %d imported, %d skipped, %d failed; %d disabled again, %d memberships added\n",
			f.CSV, noneIfEmpty(f.JobID), status, f.Imported, f.Skipped, f.Failed, f.DisabledAgain, f.MembershipsAdded)
		if f.Failed > 0 || f.Skipped > 0 {
			fmt.Fprintf(w, "  per-line results: CloudWatch Logs group %s, stream %s\n", f.LogGroup, f.LogStream)
		}
	}
	fmt.Fprintf(w, "Total: %d imported, %d skipped, %d failed, %d disabled again, %d group memberships added.\n",
		r.Imported, r.Skipped, r.Failed, r.DisabledAgain, r.MembershipsAdded)
	if len(r.GroupsCreated) > 0 {
		fmt.Fprintf(w, "Groups created: %s\n", strings.Join(r.GroupsCreated, ", "))
	}
	if len(r.LeftToDo) == 0 && r.Error == nil {
		fmt.Fprintln(w, "Nothing left to do. Imported users must reset their password at their next sign-in.")
		return
	}
	fmt.Fprintln(w, "Left to do:")
	for _, s := range r.LeftToDo {
		fmt.Fprintf(w, "  - %s\n", s)
	}
}

func noneIfEmpty(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Optional interfaces a Clients may implement, for tests of import.
type (
	// importTuner shortens the import's waits.
	importTuner interface{ tuneImporter(*bulk.Importer) }
	// terminaler says whether stdin and stderr are a terminal, and gives
	// stdin.
	terminaler interface{ terminal() (io.Reader, bool) }
)

// interactive returns stdin when it and stderr are a terminal.
func (a *app) interactive() (io.Reader, bool) {
	if t, ok := a.clients.(terminaler); ok {
		return t.terminal()
	}
	return a.stdin, isTerminal(a.stdin) && isTerminal(a.stderr)
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// importUsers checks the export and the new pool, asks, and imports.
func (a *app) importUsers(ctx context.Context, opts *importOptions, res *importResult) error {
	exp, err := bulk.ReadExport(opts.From)
	if err != nil {
		res.Problems = append(res.Problems, err.Error())
		return failf("%s is not an export that can be imported", opts.From)
	}
	m, err := a.resolveMigration(ctx, "import", &opts.twoPoolOptions)
	if err != nil {
		return err
	}
	poolID := opts.PoolID
	jobs := cognito.NewImportJobs(m.New, poolID, opts.LogsRoleARN, nil)
	problems, err := bulk.CheckImport(ctx, jobs, opts.From)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		res.Problems = problems
		return failf("the import cannot start: %d problems (listed above); nothing was changed", len(problems))
	}
	st, err := bulk.LoadState(opts.From)
	if err != nil {
		return err
	}
	res.fill(exp, st, poolID, deref(m.NewPool.Name))
	if opts.DryRun {
		return nil
	}
	if !opts.Yes {
		in, ok := a.interactive()
		if !ok {
			return usagef("import", "confirmation needed: run it on a terminal, or pass --yes to import without asking")
		}
		users := 0
		for _, f := range exp.Files {
			users += f.Users
		}
		fmt.Fprintf(a.stderr, "Import %d users from %s into %s (%s)? They will have to reset their password. [y/N] ", users, opts.From, poolID, deref(m.NewPool.Name))
		answer, _ := bufio.NewReader(in).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return failf("not confirmed: nothing was changed")
		}
	}

	bar := a.statusLine()
	im := &bulk.Importer{
		API: jobs, Dir: opts.From, CreateMissingGroups: opts.CreateMissingGroups,
		SamePerson: samePerson(cognito.NewOldPool(m.New, poolID, "", ""), m.Settings.Rules.LegacySub),
		Progress: func(csv string, job bulk.Job) {
			bar.show(fmt.Sprintf("%s %s: %d imported, %d skipped, %d failed", csv, job.Status, job.Imported, job.Skipped, job.Failed))
		},
	}
	if t, ok := a.clients.(importTuner); ok {
		t.tuneImporter(im)
	}
	st, err = im.Run(ctx)
	bar.done()
	res.fill(exp, st, poolID, deref(m.NewPool.Name))
	if err != nil {
		res.LeftToDo = append(res.LeftToDo, "run the same command again: it continues where it stopped")
		return err
	}
	if len(res.LeftToDo) > 0 {
		return failf("the import ended with %d things left to do (listed above)", len(res.LeftToDo))
	}
	return nil
}

// deref dereferences an optional string.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// fill sets the result from the export and the state.
func (r *importResult) fill(exp bulk.ExportSummary, st bulk.State, poolID, poolName string) {
	r.Files = r.Files[:0]
	r.Imported, r.Skipped, r.Failed, r.DisabledAgain, r.MembershipsAdded = 0, 0, 0, 0, 0
	r.LeftToDo, r.GroupsCreated = []string{}, nil
	missing := map[string]bool{}
	for i, ef := range exp.Files {
		f := importFile{CSV: ef.CSV, Users: ef.Users}
		if i < len(st.Files) {
			fs := st.Files[i]
			f.JobID, f.JobStatus, f.Imported, f.Skipped, f.Failed = fs.JobID, fs.JobStatus, fs.Imported, fs.Skipped, fs.Failed
			f.CompletionMessage, f.Done = fs.CompletionMessage, fs.Done
			f.DisabledAgain, f.MembershipsAdded, f.MembershipsLeft, f.NotSamePerson = fs.Disabled, fs.MembershipsAdded, fs.MembershipsLeft, fs.NotSamePerson
			if fs.JobID != "" {
				f.LogGroup, f.LogStream = bulk.LogGroup(poolID, poolName), fs.JobID+"/"+fs.JobName
			}
			r.GroupsCreated = append(r.GroupsCreated, fs.GroupsCreated...)
			for _, g := range fs.MissingGroups {
				missing[g] = true
			}
			if fs.Done && fs.JobStatus != bulk.JobSucceeded {
				r.LeftToDo = append(r.LeftToDo, fmt.Sprintf("%s: the job ended %s (%s); no user of it is imported again automatically: read the log group, fix the file's lines and import them from a new export",
					f.CSV, fs.JobStatus, fs.CompletionMessage))
			}
			if f.Failed > 0 {
				r.LeftToDo = append(r.LeftToDo, fmt.Sprintf("%s: %d lines failed: read CloudWatch Logs group %s, stream %s (lines are numbered from the first user row)", f.CSV, f.Failed, f.LogGroup, f.LogStream))
			}
			if f.NotSamePerson > 0 {
				r.LeftToDo = append(r.LeftToDo, fmt.Sprintf("%s: %d users' usernames belong to someone else in the new pool now (signed up after the export): their old groups and disabled flag were not applied; decide for each", f.CSV, f.NotSamePerson))
			}
		}
		if !f.Done {
			r.LeftToDo = append(r.LeftToDo, fmt.Sprintf("%s: not finished: run the same command again", f.CSV))
		}
		r.Imported += f.Imported
		r.Skipped += f.Skipped
		r.Failed += f.Failed
		r.DisabledAgain += f.DisabledAgain
		r.MembershipsAdded += f.MembershipsAdded
		r.Files = append(r.Files, f)
	}
	for g := range missing {
		r.LeftToDo = append(r.LeftToDo, fmt.Sprintf("the new pool has no group %q: its memberships were left; create it and run again, or pass --create-missing-groups", g))
	}
}

// samePerson is the importer's check that the new pool's user of a manifest
// line is the exported old user: their LEGACY_SUB_ATTRIBUTE holds the old
// sub, or (without that setting) they are still RESET_REQUIRED, as an
// import leaves a user and as nobody who signed up or was moved by the
// function since is. A user the new pool lacks is left to the step, which
// counts them.
func samePerson(newPool *cognito.OldPool, legacySub string) func(context.Context, bulk.ManifestLine) (bool, error) {
	return func(ctx context.Context, m bulk.ManifestLine) (bool, error) {
		u, err := newPool.GetUser(ctx, m.NewUsername)
		if errors.Is(err, migrate.ErrUserNotFound) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if legacySub != "" {
			return m.Sub != "" && u.Attributes[legacySub] == m.Sub, nil
		}
		return u.Status == migrate.StatusResetRequired, nil
	}
}

// statusLine rewrites one line of stderr, on a terminal only: the import
// job's status as it is polled.
type statusLine struct {
	w     io.Writer
	on    bool
	last  time.Time
	shown bool
}

func (a *app) statusLine() *statusLine {
	return &statusLine{w: a.stderr, on: isTerminal(a.stderr)}
}

// show prints what, at most ten times a second.
func (b *statusLine) show(what string) {
	if !b.on || time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last = time.Now()
	b.shown = true
	fmt.Fprintf(b.w, "\r\033[K%s", what)
}

func (b *statusLine) done() {
	if b.shown {
		fmt.Fprint(b.w, "\r\033[K")
		b.shown = false
	}
}
