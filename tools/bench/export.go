package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/cognitotest"
)

// The export scenario: `cognito-migrate export`, the built binary, against
// the wire fake holding both pools, with ListUsers' quota enforced as
// Cognito enforces it (30 requests in any second, per account and region,
// https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html).
// Pages hold 60 users, so ListUsersCeiling (1,800 users per second) is the
// ceiling any export can reach; the goal is 90% of it, and a peak memory
// that does not grow with the pool (rows are streamed, never held).

// Targets of the export command (issue 13).
const (
	// MinExportShare is the share of ListUsersCeiling export must reach.
	MinExportShare = 0.90
	// MaxExportRSSGrowth bounds how much more memory the largest export
	// may take than the smallest: rows are streamed, never held.
	MaxExportRSSGrowth = 16 << 20
)

// ExportSizes are the old-pool sizes of the export scenario.
var ExportSizes = []int{10_000, 100_000}

// exportScenario runs the export scenario.
func exportScenario(ctx context.Context, run *runner) error {
	run.say("export: cognito-migrate export of %v old users, ListUsers limited to %d/s", ExportSizes, cognito.ListUsersQuota)
	progress := run.opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	res, err := RunExport(ctx, run.opts.ModuleDir, ExportSizes, progress)
	run.results.Export = &res
	return err
}

// exportTargets judges the export scenario.
func exportTargets(r *ExportResults) []Target {
	if r == nil || len(r.Runs) == 0 {
		return nil
	}
	var ts []Target
	for _, run := range r.Runs {
		ts = append(ts, Target{Name: fmt.Sprintf("export: throughput at %d users, quota enforced", run.Users),
			Goal:     fmt.Sprintf("≥ %.0f%% of %d users/s", MinExportShare*100, ListUsersCeiling),
			Measured: fmt.Sprintf("%.0f users/s (%.1f%%)", run.UsersPerSecond, run.Ceiling*100), Met: run.Ceiling >= MinExportShare})
	}
	first, last := r.Runs[0], r.Runs[len(r.Runs)-1]
	if len(r.Runs) > 1 {
		growth := last.PeakRSSBytes - first.PeakRSSBytes
		ts = append(ts, Target{Name: fmt.Sprintf("export: peak RSS, %d vs %d users", last.Users, first.Users),
			Goal:     "flat: < " + fmtMiB(MaxExportRSSGrowth) + " more",
			Measured: fmt.Sprintf("%s vs %s", fmtMiB(last.PeakRSSBytes), fmtMiB(first.PeakRSSBytes)), Met: growth < MaxExportRSSGrowth})
	}
	return ts
}

// ExportRun is one export of a pool of Users old users.
type ExportRun struct {
	Users int `json:"users"`
	// Seconds is the command's wall time, from start to exit.
	Seconds float64 `json:"seconds"`
	// UsersPerSecond is Users / Seconds; Ceiling its share of
	// ListUsersCeiling.
	UsersPerSecond float64 `json:"usersPerSecond"`
	Ceiling        float64 `json:"ceiling"`
	// ListUsersCalls and Throttled count the ListUsers requests the fake
	// answered and those it refused for the quota.
	ListUsersCalls int `json:"listUsersCalls"`
	Throttled      int `json:"throttled"`
	Exported       int `json:"exported"`
	// PeakRSSBytes is the command's peak resident set size (VmHWM, read
	// every 10 ms while it runs).
	PeakRSSBytes int64 `json:"peakRssBytes"`
}

// ExportResults are the export scenario's runs.
type ExportResults struct {
	Command string      `json:"command"`
	Runs    []ExportRun `json:"runs"`
}

const (
	benchNewPool = "eu-west-1_BenchNew1"
	benchOldPool = "eu-west-1_BenchOld1"
)

// benchNewPoolDesc is a username pool with the attributes the generated
// users have, MFA off (so no AdminGetUser per user: MFA_POLICY=migrate).
const benchNewPoolDesc = `{"UserPool": {
  "Id": "eu-west-1_BenchNew1", "Name": "bench-new",
  "Arn": "arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_BenchNew1",
  "MfaConfiguration": "OFF",
  "SchemaAttributes": [
    {"Name": "sub", "AttributeDataType": "String", "Mutable": false, "Required": true},
    {"Name": "email", "AttributeDataType": "String", "Mutable": true},
    {"Name": "email_verified", "AttributeDataType": "Boolean", "Mutable": true},
    {"Name": "name", "AttributeDataType": "String", "Mutable": true},
    {"Name": "custom:legacy_sub", "AttributeDataType": "String", "Mutable": true}
  ]}}`

// RunExport builds cognito-migrate and exports pools of each size.
func RunExport(ctx context.Context, moduleDir string, sizes []int, progress io.Writer) (ExportResults, error) {
	dir, err := os.MkdirTemp("", "bench-export-")
	if err != nil {
		return ExportResults{}, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "cognito-migrate")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/cognito-migrate")
	build.Dir = moduleDir
	if out, err := build.CombinedOutput(); err != nil {
		return ExportResults{}, fmt.Errorf("go build ./cmd/cognito-migrate: %w\n%s", err, out)
	}
	res := ExportResults{Command: "cognito-migrate export --user-pool-id NEW --out DIR --old-user-pool-id OLD --old-client-id ID " +
		"--legacy-sub-attribute custom:legacy_sub --mfa-policy migrate (the fake: both pools, ListUsers limited to 30/s)"}
	for _, n := range sizes {
		fmt.Fprintf(progress, "export: %d users...\n", n)
		run, err := exportOnce(ctx, bin, filepath.Join(dir, fmt.Sprint(n)), n)
		if err != nil {
			return res, fmt.Errorf("export of %d users: %w", n, err)
		}
		fmt.Fprintf(progress, "export: %d users in %.1f s, %.0f users/s (%.0f%% of the ceiling), peak RSS %s\n",
			n, run.Seconds, run.UsersPerSecond, 100*run.Ceiling, fmtMiB(run.PeakRSSBytes))
		res.Runs = append(res.Runs, run)
	}
	return res, nil
}

func exportOnce(ctx context.Context, bin, out string, n int) (ExportRun, error) {
	f, stop := cognitotest.NewServer(cognitotest.ServerOptions{})
	defer stop()
	f.AddPool(cognitotest.Pool{ID: benchOldPool})
	f.AddPool(cognitotest.Pool{ID: benchNewPool})
	f.PutUserPool([]byte(benchNewPoolDesc))
	created := time.Now().Add(-24 * time.Hour)
	users := make([]cognitotest.User, n)
	for i := range users {
		name := fmt.Sprintf("user%07d", i)
		users[i] = cognitotest.User{Username: name, Enabled: true, Created: created, LastModified: created,
			Attributes: map[string]string{"email": name + "@example.com", "email_verified": "true", "name": "User " + name}}
	}
	f.AddUsers(benchOldPool, users)
	f.SetRateLimit("ListUsers", 30)

	cmd := exec.CommandContext(ctx, bin, "export", "--user-pool-id", benchNewPool, "--out", out, "--output", "json",
		"--old-user-pool-id", benchOldPool, "--old-client-id", "benchclient", "--legacy-sub-attribute", "custom:legacy_sub",
		"--mfa-policy", "migrate")
	cmd.Env = []string{
		"HOME=" + filepath.Dir(out), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench", "AWS_REGION=eu-west-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=" + f.URL, "OLD_USER_POOL_ENDPOINT=" + f.URL,
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return ExportRun{}, err
	}
	// VmHWM of the running command, sampled: getrusage's ru_maxrss would
	// also count the memory of this process, whose address space the child
	// shares until it execs.
	var peak int64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			// Until it has exec'd, the child's status is this process's.
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)); err == nil && bytes.HasPrefix(b, []byte("Name:\tcognito-migrate\n")) {
				if hwm, err := parseVmHWM(b); err == nil {
					peak = max(peak, hwm)
				}
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	err := cmd.Wait()
	elapsed := time.Since(start)
	close(done)
	<-sampled
	if err != nil {
		return ExportRun{}, fmt.Errorf("%w\n%s%s", err, stdout.Bytes(), stderr.Bytes())
	}
	var summary struct {
		OldPoolUsers int `json:"oldPoolUsers"`
		Exported     int `json:"exported"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &summary); err != nil {
		return ExportRun{}, fmt.Errorf("read the summary: %w\n%s", err, stdout.Bytes())
	}
	if summary.OldPoolUsers != n || summary.Exported != n {
		return ExportRun{}, fmt.Errorf("listed %d and exported %d of %d users", summary.OldPoolUsers, summary.Exported, n)
	}
	run := ExportRun{Users: n, Seconds: elapsed.Seconds(), Exported: summary.Exported,
		ListUsersCalls: f.CallCount("ListUsers"), Throttled: f.Throttled("ListUsers")}
	run.UsersPerSecond = float64(n) / run.Seconds
	run.Ceiling = run.UsersPerSecond / ListUsersCeiling
	run.PeakRSSBytes = peak
	return run, nil
}

// ExportMarkdown is the export scenario's table.
func ExportMarkdown(r ExportResults) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**`export`** (`%s`): the built command's wall time, and its peak RSS (VmHWM); goal at least %.0f%% of ListUsers' ceiling of %d users/s, and a flat peak memory.\n\n",
		r.Command, 100*MinExportShare, ListUsersCeiling)
	b.WriteString("| old users | time | users/s | of the ceiling | ListUsers calls (throttled) | peak RSS |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, run := range r.Runs {
		verdict := "met"
		if run.Ceiling < MinExportShare {
			verdict = "NOT met"
		}
		fmt.Fprintf(&b, "| %d | %.1f s | %.0f | %.1f%% (%s) | %d (%d) | %s |\n",
			run.Users, run.Seconds, run.UsersPerSecond, 100*run.Ceiling, verdict, run.ListUsersCalls, run.Throttled, fmtMiB(run.PeakRSSBytes))
	}
	return b.String()
}
