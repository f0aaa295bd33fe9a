package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-migrate/cognito-migrate/internal/awserr"
	"github.com/cognito-migrate/cognito-migrate/internal/bulk"
	"github.com/cognito-migrate/cognito-migrate/internal/cognito"
	"github.com/cognito-migrate/cognito-migrate/internal/lambdaapi"
	"github.com/cognito-migrate/cognito-migrate/internal/migrate"
	"github.com/cognito-migrate/cognito-migrate/internal/preflight"
)

// checkOptions are the flags of check.
type checkOptions struct {
	twoPoolOptions
	// Sample is how many users of each pool are read (0: all).
	Sample int
}

// defaultSample is how many users of each pool check reads by default:
// 17 ListUsers pages, well under a second of the quota.
const defaultSample = 1000

func newCheckCmd(a *app) *command {
	opts := &checkOptions{}
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	opts.register(fs)
	fs.IntVar(&opts.Sample, "sample", defaultSample, "how many users of each pool to read, `N` (0: all of them)")
	c := &command{
		name:     "check",
		summary:  "check both pools and the wiring before users hit the trigger",
		synopsis: "--user-pool-id ID [--function-arn ARN] [--sample N] [--output text|json] [flags]",
		description: `
A preflight of the migration: reads the NEW pool, its app clients, its "Migrate user"
trigger and the function's resource policy, the function's settings (its environment,
or the setting flags), the OLD pool, its app client OLD_CLIENT_ID and MFA
configuration, and a sample of users of both pools. It changes nothing.

Each finding has a stable id, a severity (error: users will fail to migrate until it
is fixed; warning: some will, or will migrate differently than expected; info: a
difference worth knowing), what was seen, and the exact fix. The ids:
old-client-admin-auth, old-client-secret, new-client-password-auth,
new-client-user-existence, trigger-not-attached, invoke-permission,
schema-missing-attribute, schema-required-attribute, legacy-sub-attribute,
sign-in-type, username-case, username-email-format, mfa, password-policy,
already-present, and for the pre token generation and pre sign-up triggers
pre-token-generation-unconfigured, pre-token-generation-not-attached,
pre-token-generation-version, groups-attribute-schema, groups-attribute-writable,
pre-signup-unconfigured and pre-signup-not-attached.

already-present lists users of the sample of the new pool that the old pool also
has (AdminGetUser) and that the trigger did not make: with LEGACY_SUB_ATTRIBUTE,
those without that attribute; without the setting, those whose status the trigger
never gives (UNCONFIRMED, FORCE_CHANGE_PASSWORD,
EXTERNAL_PROVIDER). No secret (the old client's secret) is ever printed.

--output json prints {"findings":[{"id","severity","detail","fix"}],
"counts":{"error":N,"warning":N,"info":N}}.`,
		footer: `
IAM, new pool: cognito-idp:DescribeUserPool, ListUserPoolClients,
DescribeUserPoolClient and ListUsers; the function: lambda:GetFunctionConfiguration
and lambda:GetPolicy. Old pool: cognito-idp:DescribeUserPool, DescribeUserPoolClient,
GetUserPoolMfaConfig, ListUsers and AdminGetUser.

Exit status: 0 no error finding, 1 the check could not run, 2 usage error, 3 at least
one error finding.`,
		flags: fs,
	}
	c.run = func(ctx context.Context) error {
		if err := opts.validate(c.name); err != nil {
			return err
		}
		if opts.Sample < 0 {
			return usagef(c.name, "--sample must be 0 (all users) or more, not %d", opts.Sample)
		}
		res, err := runCheck(ctx, a, c.name, opts)
		if err != nil {
			return a.finish(opts.Output, &checkResult{Findings: []preflight.Finding{}}, err)
		}
		if err := a.finish(opts.Output, res, nil); err != nil {
			return err
		}
		if res.Counts.Error > 0 {
			return &findingsError{n: res.Counts.Error}
		}
		return nil
	}
	return c
}

// findingsError: check ran and found errors (exit status 3).
type findingsError struct{ n int }

func (e *findingsError) Error() string {
	return fmt.Sprintf("%d error finding(s): fix them before users sign in to the new pool", e.n)
}

// checkResult is check's output.
type checkResult struct {
	Findings []preflight.Finding `json:"findings"`
	Counts   preflight.Counts    `json:"counts"`
	Error    *errorResult        `json:"error,omitempty"`
	// about names what was checked, for the text output.
	about string
}

func (r *checkResult) warnings() []string      { return nil }
func (r *checkResult) setError(e *errorResult) { r.Error = e }

func (r *checkResult) printText(w io.Writer) {
	if r.Error != nil {
		return // printError says it
	}
	fmt.Fprintf(w, "%s\n", r.about)
	for _, f := range r.Findings {
		fmt.Fprintf(w, "\n%-7s %s\n", strings.ToUpper(string(f.Severity)), f.ID)
		fmt.Fprintf(w, "  %s\n  fix: %s\n", f.Detail, f.Fix)
	}
	if len(r.Findings) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%d error(s), %d warning(s), %d info\n", r.Counts.Error, r.Counts.Warning, r.Counts.Info)
}

// runCheck gathers the preflight's input through the SDK and runs it.
func runCheck(ctx context.Context, a *app, cmd string, opts *checkOptions) (*checkResult, error) {
	m, err := a.resolveMigration(ctx, cmd, &opts.twoPoolOptions)
	if err != nil {
		return nil, err
	}
	newID, oldID := opts.PoolID, m.Settings.OldUserPoolID
	newList, oldList := listers(m, &opts.twoPoolOptions)
	in := preflight.Input{
		NewPool:     m.NewPool,
		FunctionARN: opts.FunctionARN,
		Settings: preflight.Settings{
			OldUserPoolID:          oldID,
			OldClientID:            m.Settings.OldClientID,
			ClientSecretConfigured: m.Settings.OldClientSecretARN != "" || m.Settings.OldClientSecret != "",
			Rename:                 m.Settings.Rules.Rename,
			Exclude:                m.Settings.Rules.Exclude,
			LegacySub:              m.Settings.Rules.LegacySub,
			MFAPolicy:              string(m.Settings.Rules.MFA),
			EnforcePasswordPolicy:  m.Settings.Rules.EnforcePasswordPolicy,
			LegacyGroups:           m.Settings.Companions.GroupsAttribute,
			SignupGuard:            m.Settings.Companions.SignUpGuard,
		},
	}
	if in.NewClients, err = newList.AppClients(ctx, newID); err != nil {
		return nil, err
	}
	if in.OldPool, err = cognito.NewAdmin(m.Old).UserPool(ctx, oldID); err != nil {
		return nil, oldPoolHint(err, m)
	}
	oc, err := m.Old.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(oldID), ClientId: aws.String(m.Settings.OldClientID)})
	if err != nil {
		err = awserr.Wrap("cognito-idp:DescribeUserPoolClient", oldID, err)
		if errors.Is(err, awserr.ErrNotFound) {
			return nil, withHint(err, "OLD_CLIENT_ID %s is not an app client of the old pool %s: set OLD_CLIENT_ID (or --old-client-id) to one of its clients (aws cognito-idp list-user-pool-clients --user-pool-id %s)",
				m.Settings.OldClientID, oldID, oldID)
		}
		return nil, oldPoolHint(err, m)
	}
	in.OldClient = oc.UserPoolClient
	if in.OldMFA, err = oldList.MFAConfig(ctx, oldID); err != nil {
		return nil, oldPoolHint(err, m)
	}
	if fn := m.FunctionARN; fn != "" {
		in.FunctionPolicy, in.PolicyError = a.functionPolicy(ctx, &opts.poolOptions, fn)
	}
	if in.Sample, err = sampleOld(ctx, oldList, oldID, opts.Sample); err != nil {
		return nil, oldPoolHint(err, m)
	}
	if in.AlreadyPresent, err = alreadyPresent(ctx, m, newList, newID, opts.Sample); err != nil {
		return nil, err
	}
	findings, err := preflight.Check(in)
	if err != nil {
		return nil, err
	}
	about := fmt.Sprintf("Checked new pool %s and old pool %s", newID, oldID)
	if m.FunctionARN != "" {
		about += fmt.Sprintf(", with the settings of %s (%s)", m.FunctionARN, m.From)
	} else {
		about += ", with the settings given as flags"
	}
	return &checkResult{Findings: nonNil(findings), Counts: preflight.Count(findings), about: about + "."}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// listers returns the Listers of the new and the old pool. Their ListUsers
// requests share one quota (30 per second per account and region) when both
// pools are reached with the same credentials in the same region.
func listers(m *migration, o *twoPoolOptions) (newList, oldList *cognito.Lister) {
	newLimit := listUsersLimiter()
	oldLimit := newLimit
	if m.OldPool.Region != m.NewRegion || (o.OldProfile != "" && o.OldProfile != o.Profile) || m.OldPool.RoleARN != "" {
		oldLimit = listUsersLimiter()
	}
	return cognito.NewLister(m.New, newLimit), cognito.NewLister(m.Old, oldLimit)
}

// listUsersLimiter spaces ListUsers requests evenly under the quota: a
// token bucket at DefaultListUsersRate without bursts.
func listUsersLimiter() *bulk.Limiter {
	return bulk.NewLimiter(bulk.SystemClock{}, cognito.DefaultListUsersRate, 1)
}

// oldPoolHint adds where the old pool was looked for to a failed call.
func oldPoolHint(err error, m *migration) error {
	if errors.Is(err, awserr.ErrNotFound) || errors.Is(err, awserr.ErrAccessDenied) {
		where := "AWS's endpoint"
		if m.OldPool.Endpoint != "" {
			where = m.OldPool.Endpoint
		}
		return withHint(err, "The old pool is OLD_USER_POOL_ID %s in region %s, reached at %s; check the setting (or --old-user-pool-id, --old-region, --old-profile, --old-endpoint-url).",
			m.Settings.OldUserPoolID, m.OldPool.Region, where)
	}
	return err
}

// functionPolicy reads the function's resource policy; a failure is
// returned as its explanation, for the finding.
func (a *app) functionPolicy(ctx context.Context, o *poolOptions, functionARN string) (policy, problem string) {
	fn, err := lambdaapi.ParseFunctionARN(functionARN)
	if err != nil {
		return "", err.Error()
	}
	api, err := a.lambdaClient(ctx, o, fn.Region)
	if err != nil {
		return "", explain(err)
	}
	policy, err = lambdaapi.Policy(ctx, api, functionARN)
	if err != nil {
		return "", explain(err)
	}
	return policy, ""
}

// errEnough stops a listing once the sample is full.
var errEnough = errors.New("sample full")

// sampleOld reads up to n users of the old pool (all when n is 0).
func sampleOld(ctx context.Context, l *cognito.Lister, poolID string, n int) ([]preflight.SampleUser, error) {
	var out []preflight.SampleUser
	err := l.ListUsers(ctx, poolID, cognito.ListUsersOptions{}, func(u types.UserType) error {
		lu := cognito.ListedUser(u)
		out = append(out, preflight.SampleUser{Username: lu.Username, Attributes: lu.Attributes})
		if n > 0 && len(out) >= n {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	return out, nil
}

// notMadeByTrigger are statuses the trigger never gives a user: it creates
// them CONFIRMED or RESET_REQUIRED.
var notMadeByTrigger = []types.UserStatusType{types.UserStatusTypeUnconfirmed, types.UserStatusTypeForceChangePassword, types.UserStatusTypeExternalProvider}

// alreadyPresent reads up to n users of the new pool (all when n is 0) and
// returns the usernames of those the old pool also has but the trigger did
// not make (see check's help).
func alreadyPresent(ctx context.Context, m *migration, l *cognito.Lister, newID string, n int) ([]string, error) {
	legacy := m.Settings.Rules.LegacySub
	var candidates []string
	seen := 0
	err := l.ListUsers(ctx, newID, cognito.ListUsersOptions{}, func(u types.UserType) error {
		seen++
		lu := cognito.ListedUser(u)
		switch {
		case legacy != "" && lu.Attributes[legacy] == "":
			candidates = append(candidates, lu.Username)
		case legacy == "" && slices.Contains(notMadeByTrigger, u.UserStatus):
			candidates = append(candidates, lu.Username)
		}
		if n > 0 && seen >= n {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	old := cognito.NewOldPool(m.Old, m.Settings.OldUserPoolID, m.Settings.OldClientID, "")
	var out []string
	for _, name := range candidates {
		_, err := old.GetUser(ctx, name)
		if errors.Is(err, migrate.ErrUserNotFound) {
			continue
		}
		if err != nil {
			return nil, oldPoolHint(err, m)
		}
		out = append(out, name)
	}
	return out, nil
}
