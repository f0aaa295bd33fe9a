package bulk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Job is an import job, as the cognito adapter reads it.
type Job = cognito.ImportJob

// Import job statuses (UserImportJobStatusType).
const (
	JobCreated    = "Created"
	JobPending    = "Pending"
	JobInProgress = "InProgress"
	JobStopping   = "Stopping"
	JobStopped    = "Stopped"
	JobSucceeded  = "Succeeded"
	JobFailed     = "Failed"
	JobExpired    = "Expired"
)

// ImportAPI is what the importer needs of the new pool. The cognito package
// adapts cognito-idp to it; tests use fakes. Errors carrying an ErrorCode
// method (the SDK's API errors) are recognised by code:
// TooManyRequestsException and ThrottlingException are retried,
// UserNotFoundException on a user step counts the user as not in the new
// pool, GroupExistsException on CreateGroup means the group is there.
type ImportAPI interface {
	CreateImportJob(ctx context.Context, name string) (Job, error)
	// UploadCSV PUTs size bytes of body to the job's pre-signed URL.
	UploadCSV(ctx context.Context, url string, body io.Reader, size int64) error
	StartImportJob(ctx context.Context, jobID string) (Job, error)
	DescribeImportJob(ctx context.Context, jobID string) (Job, error)
	DisableUser(ctx context.Context, username string) error
	AddUserToGroup(ctx context.Context, username, group string) error
	// GroupExists is GetGroup: false when the group does not exist.
	GroupExists(ctx context.Context, group string) (bool, error)
	CreateGroup(ctx context.Context, group string) error
}

// State is DIR/import-state.json: what the import has done, file by file. It
// is rewritten atomically after every step, so a crash or Ctrl-C at any
// point leaves a state the next run continues from.
type State struct {
	Version int         `json:"version"`
	Files   []FileState `json:"files"`
}

// FileState is the import of one CSV file. Its steps run in order: create
// the job, upload, start, wait for the end, disable again the users who were
// disabled in the old pool, add the group memberships, done. A job that ends
// Failed or Stopped still gets the two last steps (the users it imported
// need them) and is then done: it is never imported again automatically;
// JobStatus and CompletionMessage tell the operator what is left.
type FileState struct {
	CSV     string `json:"csv"`
	JobID   string `json:"job_id,omitempty"`
	JobName string `json:"job_name,omitempty"`
	// JobCreatedAt dates the pre-signed URL, valid 15 minutes.
	JobCreatedAt time.Time `json:"job_created_at,omitzero"`
	// AbandonedJobs were created for this file but never started (their
	// upload window passed, or they expired); they import nothing.
	AbandonedJobs []string `json:"abandoned_jobs,omitempty"`
	Uploaded      bool     `json:"uploaded"`
	Started       bool     `json:"started"`
	// JobStatus and the counters are the job's last known state.
	JobStatus         string `json:"job_status,omitempty"`
	Imported          int64  `json:"imported"`
	Skipped           int64  `json:"skipped"`
	Failed            int64  `json:"failed"`
	CompletionMessage string `json:"completion_message,omitempty"`

	// DisabledThrough and GroupsThrough are the last manifest line whose
	// step is done; the counters cover exactly those lines.
	DisabledThrough int `json:"disabled_through"`
	Disabled        int `json:"disabled"`
	// DisableMissing: disabled old users the new pool does not have (their
	// row was skipped or failed).
	DisableMissing   int `json:"disable_users_missing"`
	GroupsThrough    int `json:"groups_through"`
	MembershipsAdded int `json:"memberships_added"`
	// MembershipsLeft: memberships not added because the group is missing
	// and may not be created; GroupMissing: users the new pool lacks.
	MembershipsLeft int `json:"memberships_left"`
	GroupMissing    int `json:"group_users_missing"`
	// NotSamePerson: lines whose new user Importer.SamePerson refused.
	NotSamePerson int      `json:"not_same_person"`
	GroupsCreated []string `json:"groups_created,omitempty"`
	MissingGroups []string `json:"missing_groups,omitempty"`
	Done          bool     `json:"done"`
}

// Importer imports an export directory into the new pool, resumably.
type Importer struct {
	API ImportAPI
	// Dir is the export directory; its import-state.json is created there.
	Dir   string
	Clock Clock
	// JobLimiter paces the import-job calls, UserLimiter the user and group
	// calls; nil means Cognito's quotas (ImportJobRPS, UserUpdateRPS).
	JobLimiter, UserLimiter *Limiter
	Backoff                 Backoff
	// PollInterval is the wait between DescribeUserImportJob calls.
	PollInterval time.Duration
	// CallTimeout bounds each call; UploadTimeout each upload.
	CallTimeout, UploadTimeout time.Duration
	// UploadWindow is how long after its creation a job's URL is trusted
	// (Cognito's is 15 minutes).
	UploadWindow time.Duration
	// CreateMissingGroups creates groups the new pool lacks; otherwise
	// their memberships are left and reported.
	CreateMissingGroups bool
	// CheckpointEvery is how many manifest lines run between state writes.
	CheckpointEvery int
	// JobName names a file's job; nil gives "cognito-migrate-users-0001".
	JobName func(csv string) string
	// Progress, when set, is called after each poll of a job.
	Progress func(csv string, job Job)
	// SamePerson, when set, is asked before a user's disabled flag or groups
	// are applied whether the new pool's NewUsername is the manifest line's
	// old user (e.g. its LEGACY_SUB_ATTRIBUTE value equals Sub, read with
	// AdminGetUser). An import job reports a username that already exists
	// as skipped without saying whose it is: someone who signed up with that
	// username after the export would otherwise get the old user's groups.
	// Lines it refuses are counted in NotSamePerson and left alone.
	SamePerson func(ctx context.Context, m ManifestLine) (bool, error)
}

func (im *Importer) defaults() {
	if im.Clock == nil {
		im.Clock = SystemClock{}
	}
	if im.JobLimiter == nil {
		im.JobLimiter = NewLimiter(im.Clock, ImportJobRPS, 1)
	}
	if im.UserLimiter == nil {
		im.UserLimiter = NewLimiter(im.Clock, UserUpdateRPS, 1)
	}
	if im.Backoff.Attempts == 0 {
		im.Backoff = DefaultBackoff
	}
	if im.PollInterval <= 0 {
		im.PollInterval = 5 * time.Second
	}
	if im.CallTimeout <= 0 {
		im.CallTimeout = 30 * time.Second
	}
	if im.UploadTimeout <= 0 {
		im.UploadTimeout = 10 * time.Minute
	}
	if im.UploadWindow <= 0 {
		im.UploadWindow = 14 * time.Minute
	}
	if im.CheckpointEvery <= 0 {
		im.CheckpointEvery = 100
	}
	if im.JobName == nil {
		im.JobName = func(csv string) string {
			return "cognito-migrate-" + csv[:len(csv)-len(filepath.Ext(csv))]
		}
	}
}

// LoadState reads DIR/import-state.json; a missing file is an empty state.
func LoadState(dir string) (State, error) {
	var s State
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if errors.Is(err, os.ErrNotExist) {
		return State{Version: 1}, nil
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", filepath.Join(dir, StateFile), err)
	}
	if s.Version != 1 {
		return s, fmt.Errorf("%s: version %d, want 1", filepath.Join(dir, StateFile), s.Version)
	}
	return s, nil
}

// Run imports every file of the export that is not done yet and returns
// the state. It can be called again after any failure or crash: each step
// is idempotent, and a file's job is started at most once.
func (im *Importer) Run(ctx context.Context) (State, error) {
	im.defaults()
	exp, err := ReadExport(im.Dir)
	if err != nil {
		return State{}, err
	}
	st, err := LoadState(im.Dir)
	if err != nil {
		return st, err
	}
	for i, f := range exp.Files {
		if i < len(st.Files) {
			if st.Files[i].CSV != f.CSV {
				return st, fmt.Errorf("%s: file %d is %s, the export's is %s: the state belongs to another export", StateFile, i+1, st.Files[i].CSV, f.CSV)
			}
			continue
		}
		st.Files = append(st.Files, FileState{CSV: f.CSV})
	}
	if len(st.Files) != len(exp.Files) {
		return st, fmt.Errorf("%s lists %d files, the export %d: the state belongs to another export", StateFile, len(st.Files), len(exp.Files))
	}
	r := &run{im: im, st: &st}
	for i, f := range exp.Files {
		if err := r.file(ctx, &st.Files[i], f); err != nil {
			return st, fmt.Errorf("import %s: %w", f.CSV, err)
		}
	}
	return st, nil
}

type run struct {
	im     *Importer
	st     *State
	groups map[string]bool // known to exist in the new pool
	// urls are the pre-signed URLs CreateUserImportJob gave in this run, in
	// case DescribeUserImportJob leaves them out; never saved.
	urls map[string]string
}

func (r *run) save() error {
	if err := writeJSONAtomic(filepath.Join(r.im.Dir, StateFile), r.st); err != nil {
		return fmt.Errorf("save %s: %w", StateFile, err)
	}
	return nil
}

// jobCall and userCall run one AWS call under its limiter, its timeout and
// the throttling backoff.
func (r *run) jobCall(ctx context.Context, fn func(context.Context) error) error {
	return r.callWith(ctx, r.im.JobLimiter, fn)
}

func (r *run) userCall(ctx context.Context, fn func(context.Context) error) error {
	return r.callWith(ctx, r.im.UserLimiter, fn)
}

func (r *run) callWith(ctx context.Context, l *Limiter, fn func(context.Context) error) error {
	return call(ctx, r.im.Clock, l, r.im.Backoff, func() error {
		cctx, cancel := context.WithTimeout(ctx, r.im.CallTimeout)
		defer cancel()
		return fn(cctx)
	})
}

func terminal(status string) bool {
	switch status {
	case JobSucceeded, JobFailed, JobStopped, JobExpired:
		return true
	}
	return false
}

func (r *run) file(ctx context.Context, fs *FileState, f ExportFile) error {
	if fs.Done {
		return nil
	}
	if err := r.job(ctx, fs, f); err != nil {
		return err
	}
	// Users of a failed or stopped job may have been imported all the same:
	// the steps below run for them too (a missing user is counted, not an
	// error), so no disabled user stays enabled.
	manifest := filepath.Join(r.im.Dir, f.Manifest)
	if err := r.disable(ctx, fs, manifest); err != nil {
		return err
	}
	if err := r.addGroups(ctx, fs, manifest); err != nil {
		return err
	}
	fs.Done = true
	return r.save()
}

// job takes the file's import job to its end. The job is started only when
// DescribeUserImportJob says it is still Created, so a crash between
// StartUserImportJob and saving the state never starts a second import of
// the file. A job created but never saved in the state (a crash right after
// CreateUserImportJob) is left Created and expires unused.
func (r *run) job(ctx context.Context, fs *FileState, f ExportFile) error {
	for !fs.Started {
		if fs.JobID == "" {
			var job Job
			name := r.im.JobName(f.CSV)
			if err := r.jobCall(ctx, func(ctx context.Context) (err error) {
				job, err = r.im.API.CreateImportJob(ctx, name)
				return err
			}); err != nil {
				return fmt.Errorf("create import job: %w", err)
			}
			if job.ID == "" {
				return errors.New("create import job: the answer has no job id")
			}
			if r.urls == nil {
				r.urls = map[string]string{}
			}
			r.urls[job.ID] = job.PreSignedURL
			fs.JobID, fs.JobName, fs.JobCreatedAt = job.ID, job.Name, r.im.Clock.Now()
			fs.Uploaded, fs.JobStatus = false, job.Status
			if err := r.save(); err != nil {
				return err
			}
		}
		job, err := r.describe(ctx, fs)
		if err != nil {
			return err
		}
		switch {
		case job.Status == JobExpired || (job.Status == JobCreated && !fs.Uploaded && r.im.Clock.Now().Sub(fs.JobCreatedAt) > r.im.UploadWindow):
			// Never started, so nothing was imported: a new job is safe.
			fs.AbandonedJobs = append(fs.AbandonedJobs, fs.JobID)
			fs.JobID, fs.JobName, fs.JobCreatedAt, fs.JobStatus, fs.Uploaded = "", "", time.Time{}, "", false
			if err := r.save(); err != nil {
				return err
			}
			continue
		case job.Status != JobCreated:
			// Started by an earlier run that stopped before saving it.
			fs.Started = true
			if err := r.save(); err != nil {
				return err
			}
			continue
		}
		if !fs.Uploaded {
			url := job.PreSignedURL
			if url == "" {
				url = r.urls[fs.JobID]
			}
			if err := r.upload(ctx, url, f); err != nil {
				return err
			}
			fs.Uploaded = true
			if err := r.save(); err != nil {
				return err
			}
		}
		if err := r.jobCall(ctx, func(ctx context.Context) (err error) {
			job, err = r.im.API.StartImportJob(ctx, fs.JobID)
			return err
		}); err != nil {
			return fmt.Errorf("start import job %s: %w", fs.JobID, err)
		}
		fs.Started = true
		r.record(fs, job)
		if err := r.save(); err != nil {
			return err
		}
	}
	for !terminal(fs.JobStatus) {
		if err := r.im.Clock.Sleep(ctx, r.im.PollInterval); err != nil {
			return err
		}
		before := fs.JobStatus
		if _, err := r.describe(ctx, fs); err != nil {
			return err
		}
		if fs.JobStatus != before || terminal(fs.JobStatus) {
			if err := r.save(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *run) describe(ctx context.Context, fs *FileState) (Job, error) {
	var job Job
	if err := r.jobCall(ctx, func(ctx context.Context) (err error) {
		job, err = r.im.API.DescribeImportJob(ctx, fs.JobID)
		return err
	}); err != nil {
		return job, fmt.Errorf("describe import job %s: %w", fs.JobID, err)
	}
	r.record(fs, job)
	if r.im.Progress != nil {
		r.im.Progress(fs.CSV, job)
	}
	return job, nil
}

func (r *run) record(fs *FileState, job Job) {
	fs.JobStatus = job.Status
	fs.Imported, fs.Skipped, fs.Failed = job.Imported, job.Skipped, job.Failed
	fs.CompletionMessage = job.CompletionMessage
}

func (r *run) upload(ctx context.Context, url string, f ExportFile) error {
	if url == "" {
		return errors.New("upload: the job has no pre-signed URL: run the import again to create a new job")
	}
	file, err := os.Open(filepath.Join(r.im.Dir, f.CSV))
	if err != nil {
		return err
	}
	defer file.Close()
	uctx, cancel := context.WithTimeout(ctx, r.im.UploadTimeout)
	defer cancel()
	if err := r.im.API.UploadCSV(uctx, url, file, f.Bytes); err != nil {
		return fmt.Errorf("upload %s: %w", f.CSV, err)
	}
	return nil
}

func hasCode(err error, code string) bool {
	var coded interface{ ErrorCode() string }
	return errors.As(err, &coded) && coded.ErrorCode() == code
}

// disable disables again, in the new pool, the users the old pool had
// disabled: the CSV cannot say it, and an imported user is enabled.
func (r *run) disable(ctx context.Context, fs *FileState, manifest string) error {
	pending := 0
	err := ReadManifest(manifest, func(m ManifestLine) error {
		if m.Line <= fs.DisabledThrough {
			return nil
		}
		if !m.Enabled {
			if err := r.disableLine(ctx, fs, m); err != nil {
				return err
			}
		}
		fs.DisabledThrough = m.Line
		if pending++; pending >= r.im.CheckpointEvery {
			pending = 0
			return r.save()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return r.save()
}

func (r *run) disableLine(ctx context.Context, fs *FileState, m ManifestLine) error {
	same, err := r.samePerson(ctx, m)
	if err != nil {
		return err
	}
	if !same {
		fs.NotSamePerson++
		return nil
	}
	err = r.userCall(ctx, func(ctx context.Context) error { return r.im.API.DisableUser(ctx, m.NewUsername) })
	switch {
	case hasCode(err, "UserNotFoundException"):
		fs.DisableMissing++
	case err != nil:
		return fmt.Errorf("disable user of line %d: %w", m.Line, err)
	default:
		fs.Disabled++
	}
	return nil
}

// addGroups adds each user to their old groups. A group is created only
// with CreateMissingGroups, and only after GetGroup says it is missing: an
// existing group is never created again (cognito-local's CreateGroup would
// empty it).
func (r *run) addGroups(ctx context.Context, fs *FileState, manifest string) error {
	if r.groups == nil {
		r.groups = map[string]bool{}
	}
	pending := 0
	err := ReadManifest(manifest, func(m ManifestLine) error {
		if m.Line <= fs.GroupsThrough {
			return nil
		}
		missingUser := false
		if len(m.Groups) > 0 {
			same, err := r.samePerson(ctx, m)
			if err != nil {
				return err
			}
			if !same {
				if m.Enabled { // a disabled line was counted by disable
					fs.NotSamePerson++
				}
				missingUser = true
			}
		}
		for _, g := range m.Groups {
			ok, err := r.ensureGroup(ctx, fs, g)
			if err != nil {
				return err
			}
			if !ok {
				fs.MembershipsLeft++
				continue
			}
			if missingUser {
				continue
			}
			err = r.userCall(ctx, func(ctx context.Context) error { return r.im.API.AddUserToGroup(ctx, m.NewUsername, g) })
			switch {
			case hasCode(err, "UserNotFoundException"):
				missingUser = true
				fs.GroupMissing++
			case err != nil:
				return fmt.Errorf("add user of line %d to group %q: %w", m.Line, g, err)
			default:
				fs.MembershipsAdded++
			}
		}
		fs.GroupsThrough = m.Line
		if pending++; pending >= r.im.CheckpointEvery {
			pending = 0
			return r.save()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return r.save()
}

// samePerson asks Importer.SamePerson, when set, about line m.
func (r *run) samePerson(ctx context.Context, m ManifestLine) (bool, error) {
	if r.im.SamePerson == nil {
		return true, nil
	}
	cctx, cancel := context.WithTimeout(ctx, r.im.CallTimeout)
	defer cancel()
	same, err := r.im.SamePerson(cctx, m)
	if err != nil {
		return false, fmt.Errorf("check the new user of line %d: %w", m.Line, err)
	}
	return same, nil
}

// ensureGroup reports whether the group exists in the new pool, creating it
// when allowed.
func (r *run) ensureGroup(ctx context.Context, fs *FileState, g string) (bool, error) {
	if ok, known := r.groups[g]; known {
		return ok, nil
	}
	var exists bool
	if err := r.userCall(ctx, func(ctx context.Context) (err error) {
		exists, err = r.im.API.GroupExists(ctx, g)
		return err
	}); err != nil {
		return false, fmt.Errorf("get group %q: %w", g, err)
	}
	if !exists && r.im.CreateMissingGroups {
		err := r.userCall(ctx, func(ctx context.Context) error { return r.im.API.CreateGroup(ctx, g) })
		if err != nil && !hasCode(err, "GroupExistsException") {
			return false, fmt.Errorf("create group %q: %w", g, err)
		}
		if err == nil && !slices.Contains(fs.GroupsCreated, g) {
			fs.GroupsCreated = append(fs.GroupsCreated, g)
		}
		exists = true
	}
	if !exists && !slices.Contains(fs.MissingGroups, g) {
		fs.MissingGroups = append(fs.MissingGroups, g)
	}
	r.groups[g] = exists
	return exists, nil
}
